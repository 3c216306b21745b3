import { mkdirSync, writeFileSync } from "node:fs";
import { loadavg } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { connectDatabase } from "../server/db/connect.ts";
import type { Db } from "../server/db/database.ts";
import { queryUsage } from "../server/usage/usage-query.ts";
import { usageJson } from "../server/usage/usage-json.ts";
import { prng } from "../test/usage/prng.ts";
import { copyDataSet, type DataCopy } from "./data-copy.ts";
import { startOnDataSet } from "./data-set-server.ts";
import { ensurePgSpendCopy } from "./pg-data-copy.ts";
import { timeRequestCases } from "./requests-first-page.ts";
import { intEnv } from "./settings.ts";
import { ensureSpendDb } from "./spend-data.ts";
import { usageWindows, type UsageWindow } from "./spend-queries.ts";
import { percentile } from "./stats.ts";

// GET /api/usage for 30 days by day,model (target p95 ≤ 50 ms) and the first page of
// GET /api/requests (target p95 ≤ 20 ms) on SQLite and on PostgreSQL holding the same 10M calls:
// the cached data set (spend-data.ts) and its PostgreSQL copy (pg-data-copy.ts), each built
// first if missing (~15 min for SQLite; the copy ~30 min).
//
//   flock /tmp/tollbooth-bench.lock npm run bench:usage-engines
//
// 1. In process, what the route does after parsing the query (queryUsage, then usageJson), over
//    30-day windows in six zones (spend-queries.ts usageWindows), the engines taking turns round
//    by round so a drift in the machine's load hits both alike. Each window's answer must be the
//    same on both engines, or the run fails.
// 2. In process, the first page of /api/requests for each filter of requests-first-page.ts.
// 3. Through HTTP once: the real server on each engine (CRON_ENABLED=false), the same usage
//    windows and two /api/requests pages, fetched one at a time. The SQLite server runs on a
//    private copy of the file (data-copy.ts: a server writes, the cached file must not change);
//    BENCH_ENGINES_HTTP=0 skips this part.
// Knobs: BENCH_CALLS (10000000), BENCH_ENGINES_WINDOWS (60), BENCH_ENGINES_ROUNDS (5),
// BENCH_REQUESTS_RUNS (200), BENCH_ENGINES_HTTP_RUNS (100). The table goes to stdout and to
// bench/out/usage-engines.md, with the load average at each part's start.

const here = dirname(fileURLToPath(import.meta.url));
const CALLS = intEnv(process.env, "BENCH_CALLS", 10_000_000);
const WINDOWS = intEnv(process.env, "BENCH_ENGINES_WINDOWS", 60);
const ROUNDS = intEnv(process.env, "BENCH_ENGINES_ROUNDS", 5);
const REQUEST_RUNS = intEnv(process.env, "BENCH_REQUESTS_RUNS", 200);
const HTTP_RUNS = intEnv(process.env, "BENCH_ENGINES_HTTP_RUNS", 100);
const HTTP = process.env.BENCH_ENGINES_HTTP !== "0";
const TARGET_USAGE_MS = 50;
const TARGET_REQUESTS_MS = 20;

const started = performance.now();
const log = (msg: string) => process.stderr.write(`[engines ${((performance.now() - started) / 1000).toFixed(1).padStart(6)} s] ${msg}\n`);
const load = () => loadavg()[0]!.toFixed(1);

interface Row {
  engine: string;
  part: string;
  what: string;
  p50: number;
  p95: number;
  n: number;
  target: number;
  load: string;
}
const rows: Row[] = [];
const add = (engine: string, part: string, what: string, ms: number[], target: number, loadAtStart: string) =>
  rows.push({ engine, part, what, p50: percentile(ms, 50), p95: percentile(ms, 95), n: ms.length, target, load: loadAtStart });

/** /api/usage 30 days by day,model as the route answers it (after parsing), and the JSON it sends. */
async function usageDayModel(db: Db, w: UsageWindow): Promise<string> {
  return JSON.stringify(usageJson(await queryUsage(db, { from: w.from, to: w.to, tz: w.tz, groupBy: ["day", "model"] })));
}

const data = await ensureSpendDb(join(here, "out"), CALLS, log);
const copy = await ensurePgSpendCopy(data.path, log);
const windows = usageWindows(WINDOWS, prng(5));
try {
  const engines = [
    { name: "SQLite", url: data.path, db: await connectDatabase(data.path, { poolMax: 4, migrate: false }) },
    { name: "PostgreSQL", url: copy.url, db: await connectDatabase(copy.url, { poolMax: 4, migrate: false }) },
  ];
  try {
    // 1. /api/usage in process; the first round unmeasured (cold caches), and answers compared.
    const answers = new Map<string, string[]>();
    for (const e of engines) {
      const a: string[] = [];
      for (const w of windows) a.push(await usageDayModel(e.db, w));
      answers.set(e.name, a);
    }
    const differing = windows.filter((_, i) => answers.get("SQLite")![i] !== answers.get("PostgreSQL")![i]);
    if (differing.length > 0) throw new Error(`the engines answer ${differing.length} of ${windows.length} windows differently, e.g. ${differing[0]!.query}`);
    log(`/api/usage day,model: ${windows.length} windows answered alike on both engines`);
    const usageLoad = load();
    const ms = new Map<string, number[]>(engines.map((e) => [e.name, []]));
    for (let round = 0; round < ROUNDS; round++) {
      for (const e of round % 2 === 0 ? engines : [...engines].reverse()) {
        for (const w of windows) {
          const t = performance.now();
          await usageDayModel(e.db, w);
          ms.get(e.name)!.push(performance.now() - t);
        }
      }
      log(`/api/usage day,model round ${round + 1}/${ROUNDS}: ${engines.map((e) => `${e.name} p95 ${percentile(ms.get(e.name)!, 95).toFixed(1)} ms`).join(", ")}`);
    }
    for (const e of engines) add(e.name, "in process", "/api/usage 30 days by day,model", ms.get(e.name)!, TARGET_USAGE_MS, usageLoad);
    // By zone: whole UTC days, hours, or 15-minute edges read per local day.
    for (const e of engines) {
      const byZone = new Map<string, number[]>();
      ms.get(e.name)!.forEach((t, i) => {
        const tz = windows[i % windows.length]!.tz;
        byZone.set(tz, [...(byZone.get(tz) ?? []), t]);
      });
      log(`${e.name} /api/usage day,model p50 / p95 by zone: ${[...byZone].map(([tz, xs]) => `${tz} ${percentile(xs, 50).toFixed(1)} / ${percentile(xs, 95).toFixed(1)}`).join(", ")}`);
    }

    // 2. /api/requests first pages in process.
    for (const e of engines) {
      const l = load();
      for (const [label, t] of await timeRequestCases(e.db, REQUEST_RUNS, log)) {
        rows.push({ engine: e.name, part: "in process", what: `/api/requests first page, ${label}`, p50: t.p50, p95: t.p95, n: REQUEST_RUNS, target: TARGET_REQUESTS_MS, load: l });
      }
    }
  } finally {
    for (const e of engines) await e.db.close();
  }

  // 3. Through HTTP, one server at a time.
  if (HTTP) {
    for (const [name, url] of [
      ["SQLite", data.path],
      ["PostgreSQL", copy.url],
    ] as const) {
      let fileCopy: DataCopy | null = null;
      if (name === "SQLite") {
        log("copying the SQLite file for the HTTP server");
        fileCopy = copyDataSet(url, "usage-engines");
      }
      const server = await startOnDataSet(fileCopy?.path ?? url, "usage-engines", { CRON_ENABLED: "false" });
      try {
        const get = async (path: string) => {
          const t = performance.now();
          const res = await fetch(server.url + path, { headers: { authorization: `Bearer ${server.adminToken}` } });
          const body = await res.text();
          if (res.status !== 200) throw new Error(`GET ${path} → ${res.status}: ${body.slice(0, 300)}`);
          return performance.now() - t;
        };
        const cases: [string, string[], number][] = [
          ["/api/usage 30 days by day,model", windows.map((w) => `/api/usage?${w.query}&group_by=day,model`), TARGET_USAGE_MS],
          ["/api/requests first page, no filter", ["/api/requests"], TARGET_REQUESTS_MS],
          ["/api/requests first page, q 502", ["/api/requests?q=502"], TARGET_REQUESTS_MS],
        ];
        for (const [what, paths, target] of cases) {
          // Warm-up: each window once (the file copy's pages, each reader thread's statements).
          for (const p of paths.length > 1 ? paths : [paths[0]!, paths[0]!, paths[0]!]) await get(p);
          const l = load();
          const xs: number[] = [];
          for (let i = 0; i < HTTP_RUNS; i++) xs.push(await get(paths[i % paths.length]!));
          add(name, "HTTP", what, xs, target, l);
          log(`${name} HTTP ${what}: p95 ${percentile(xs, 95).toFixed(1)} ms`);
        }
      } finally {
        await server.close();
        fileCopy?.remove();
      }
    }
  }
} finally {
  await copy.stop();
}

const fmt = (x: number) => x.toFixed(1);
const table = [
  `| engine | part | case | p50 ms | p95 ms | n | target p95 | load avg (1 min) |`,
  `|---|---|---|---:|---:|---:|---|---:|`,
  ...rows.map(
    (r) => `| ${r.engine} | ${r.part} | ${r.what} | ${fmt(r.p50)} | ${fmt(r.p95)} | ${r.n} | ≤ ${r.target} ms ${r.p95 <= r.target ? "PASS" : "MISSED"} | ${r.load} |`,
  ),
].join("\n");
const header =
  `${CALLS.toLocaleString("en-US")} calls on SQLite (${data.path}) and PostgreSQL 15 (its copy, pg-data-copy.ts; ` +
  `COPY ${copy.built.copySeconds.toFixed(0)} s, indexes ${copy.built.indexSeconds.toFixed(0)} s, rollup ${copy.built.rollupSeconds.toFixed(0)} s, ` +
  `${(copy.built.bytes / 1e9).toFixed(1)} GB). ${windows.length} 30-day windows in six zones × ${ROUNDS} rounds per engine in process; ` +
  `${REQUEST_RUNS} runs per /api/requests case; ${HTTP_RUNS} requests per HTTP case. Load average at the end: ${loadavg().map((x) => x.toFixed(1)).join(" ")}.`;
const out = `${header}\n\n${table}\n`;
mkdirSync(join(here, "out"), { recursive: true });
writeFileSync(join(here, "out", "usage-engines.md"), out);
console.log(out);
