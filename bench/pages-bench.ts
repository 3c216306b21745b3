import { logIn } from "./log-in.ts";
import { intEnv } from "./settings.ts";
import { mkdirSync, writeFileSync } from "node:fs";
import { cpus, loadavg } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { sqliteClient } from "../server/db/sqlite.ts";
import { startOnDataSet } from "./data-set-server.ts";
import { copyWithFreshTail } from "./fresh-tail-copy.ts";
import { DATA_DAYS, DATA_END, GENERATOR_VERSION, ensureSpendDb } from "./spend-data.ts";
import { median, percentile } from "./stats.ts";

// The page benchmark: every dashboard page's server time with N calls in SQLite
// (10M by default), target p95 ≤ 50 ms. The data set is the spend benchmark's (spend-data.ts,
// cached under bench/out/), the server the real one (startServer + loadConfig) with cron jobs
// off, on a clock pinned to the data set's last millisecond: the end of a day and of a month, so
// "today" and "this month" are as full as they ever get. A logged-in session (POST /login with
// the admin token) loads every page, the htmx fragment routes included, once per round, one
// request at a time, after two warm-up rounds. The time is fetch → body read over loopback in
// this process: server time plus about 0.3 ms of HTTP.
//
// Knobs: BENCH_CALLS (10000000; BENCH_QUICK=1 makes it 200000), BENCH_PAGES_N (30 loads per page),
// BENCH_PAGES_TZ (the dashboard's REPORT_TZ, America/New_York: its days and months do not start
// at UTC midnight, the harder case for the rollups), BENCH_PAGES_FRESH (0; N: that many calls not
// rolled up yet, on a private copy of the data set, written to pages-fresh.md), BENCH_SPEND_DIR
// (bench/out: data set and pages.md). Exit code 0 even when a target is missed: it measures, it does not test. Run it
// alone: next to another benchmark both measure time on the same cores.

const here = dirname(fileURLToPath(import.meta.url));
const PAGE_TARGET_P95_MS = 50;

interface PageSpec {
  path: string;
  /** What the page shows, for the table. */
  what: string;
  /** Sent as an htmx request (hx-request: true): the route answers with a fragment. */
  htmx?: boolean;
}

export interface PageRow {
  page: string;
  what: string;
  p50: number;
  p95: number;
  max: number;
  bytes: number;
  result: "PASS" | "MISSED";
}


/** Every page and fragment a logged-in user's browser asks for, with the ids some of them need. */
function pageList(ids: { failedCall: number; cursor: string; model: string; team: string }): PageSpec[] {
  const q = (p: Record<string, string>) => new URLSearchParams(p).toString();
  return [
    { path: "/", what: "overview: KPIs, top lists, 30-day chart" },
    { path: "/overview/figures", what: "overview KPIs and top lists (htmx poll, every 10 s)", htmx: true },
    { path: "/usage", what: "usage, 30 days by day" },
    { path: "/usage?range=24h", what: "usage, 24 hours by hour" },
    { path: "/usage?range=7d&granularity=hour", what: "usage, 7 days by hour" },
    { path: "/usage?range=90d&granularity=day", what: "usage, 90 days by day" },
    { path: "/usage?range=90d&granularity=week&metric=cost", what: "usage, 90 days by week (htmx form)", htmx: true },
    { path: "/spend", what: "spend this month by model, vs last month" },
    { path: "/spend?by=team&then=model", what: "spend by team then model" },
    { path: "/spend?by=model&then=day", what: "spend by model then day" },
    { path: "/spend?by=key", what: "spend by key" },
    { path: "/spend?period=last-quarter&by=team&then=project", what: "spend last quarter, team then project (htmx form)", htmx: true },
    { path: "/requests", what: "request explorer, newest 50" },
    { path: `/requests?cursor=${ids.cursor}`, what: "explorer: load more (htmx)", htmx: true },
    { path: "/requests?status=error&range=7d", what: "explorer: failed calls, 7 days" },
    { path: `/requests?${q({ model: ids.model, status: "429" })}`, what: "explorer: one model's 429s" },
    { path: `/requests?${q({ team: ids.team, range: "24h" })}`, what: "explorer: one team, 24 hours" },
    { path: `/requests?${q({ q: "no such error", range: "24h" })}`, what: "explorer: error search, no match, 24 hours" },
    { path: `/requests?${q({ q: "no such error" })}`, what: "explorer: error search, no match, all time" },
    { path: `/requests?${q({ q: "timeout" })}`, what: "explorer: error search 'timeout', no match" },
    { path: `/requests?${q({ q: "said 502" })}`, what: "explorer: error search, in 10k messages" },
    { path: `/requests?${q({ q: "request failed" })}`, what: "explorer: error search, in every message" },
    { path: `/requests/${ids.failedCall}`, what: "call detail" },
    { path: "/requests/failed", what: "failures, 24 hours" },
    { path: "/requests/failed?range=7d", what: "failures, 7 days" },
    { path: "/requests/failed?range=30d", what: "failures, 30 days" },
    { path: "/prices", what: "price catalog + unpriced models this month" },
    { path: "/jobs", what: "job runs" },
    { path: "/reports", what: "report schedules and deliveries" },
  ];
}


export async function runPagesBench(): Promise<PageRow[]> {
  const started = performance.now();
  const log = (msg: string) => process.stderr.write(`[pages ${((performance.now() - started) / 1000).toFixed(1).padStart(6)} s] ${msg}\n`);
  const load = () => loadavg().map((x) => x.toFixed(1)).join(" ");
  const loadAtStart = load();
  const quick = process.env.BENCH_QUICK === "1" || process.env.BENCH_QUICK === "true";
  const calls = intEnv(process.env, "BENCH_CALLS", quick ? 200_000 : 10_000_000);
  const loads = Math.max(30, intEnv(process.env, "BENCH_PAGES_N", 30));
  const tz = process.env.BENCH_PAGES_TZ || "America/New_York";
  const dir = process.env.BENCH_SPEND_DIR || join(here, "out");

  const fresh = intEnv(process.env, "BENCH_PAGES_FRESH", 0, 0);

  const data = await ensureSpendDb(dir, calls, log);
  const now = DATA_END - 1;
  // BENCH_PAGES_FRESH=100000: the pages with that many calls not rolled up yet (created in the
  // last hour), on a private copy of the data set (fresh-tail-copy.ts).
  const copy = fresh > 0 ? await copyWithFreshTail(data.path, fresh, 60 * 60_000, log) : null;
  const server = await startOnDataSet(
    copy?.path ?? data.path,
    "pages",
    {
      REPORT_TZ: tz,
      // No rollup or retention run in the middle of a measurement (nothing new to roll up anyway).
      CRON_ENABLED: "false",
    },
    { now: () => now },
  );
  const rows: PageRow[] = [];
  const failures: string[] = [];
  try {
    const cookie = await logIn(server, log);
    const get = async (spec: PageSpec) => {
      const t0 = performance.now();
      const res = await fetch(server.url + spec.path, { redirect: "manual", headers: { cookie, ...(spec.htmx ? { "hx-request": "true" } : {}) } });
      const body = await res.text();
      const ms = performance.now() - t0;
      if (res.status !== 200) throw new Error(`GET ${spec.path} → HTTP ${res.status}: ${body.slice(0, 300)}`);
      return { ms, body };
    };
    const client = sqliteClient(server.db);
    const failedCall = client.prepare("SELECT MAX(id) FROM calls WHERE status = 429 AND created_at <= ?").pluck().get(now) as number;
    const busiest = client.prepare("SELECT model, team FROM calls WHERE id = ?").get(failedCall) as { model: string; team: string | null };
    const explorer = await get({ path: "/requests", what: "", htmx: true });
    const cursor = /cursor=([A-Za-z0-9_-]+)/.exec(explorer.body)?.[1];
    if (!cursor) throw new Error("no load-more cursor on /requests");
    // BENCH_PAGES_ONLY=/spend measures just the pages whose path contains it (re-checks).
    const only = process.env.BENCH_PAGES_ONLY;
    const pages = pageList({ failedCall, cursor, model: busiest.model, team: busiest.team ?? "search" }).filter((p) => !only || p.path.includes(only));

    log(`${pages.length} pages × ${loads} loads, ${int(calls)} calls, REPORT_TZ=${tz}, clock at ${new Date(now).toISOString()}`);
    // Warm-up: the first reads of a cold file measure the disk, not the page.
    for (let round = 0; round < 2; round++) for (const p of pages) await get(p);
    const times = pages.map((): number[] => []);
    const bytes = pages.map(() => 0);
    for (let round = 0; round < loads; round++) {
      for (const [i, p] of pages.entries()) {
        try {
          const r = await get(p);
          times[i]!.push(r.ms);
          bytes[i] = r.body.length;
        } catch (err) {
          failures.push((err as Error).message);
        }
      }
    }
    for (const [i, p] of pages.entries()) {
      const xs = times[i]!;
      const p95 = percentile(xs, 95);
      rows.push({ page: p.path, what: p.what, p50: median(xs), p95, max: Math.max(...xs), bytes: bytes[i]!, result: xs.length === loads && p95 <= PAGE_TARGET_P95_MS ? "PASS" : "MISSED" });
    }
  } finally {
    await server.close();
    copy?.remove();
  }

  const table = pagesTable(rows);
  const missed = rows.filter((r) => r.result === "MISSED");
  const summary = missed.length ? `MISSED ${missed.length} of ${rows.length} pages: ${missed.map((r) => r.page).join(", ")}` : `All ${rows.length} pages within ${PAGE_TARGET_P95_MS} ms p95.`;
  const context =
    `BENCH_CALLS=${calls} npm run bench:pages · node ${process.version} · ${cpus().length} CPU(s) · ` +
    `data set generator v${GENERATOR_VERSION}, ${int(calls)} calls over ${DATA_DAYS} days (${data.generatedSeconds === null ? "cached" : `generated in ${data.generatedSeconds} s`}) · ` +
    `REPORT_TZ=${tz}, clock at ${new Date(now).toISOString()} · ${loads} loads per page after 2 warm-up rounds · ` +
    (fresh > 0 ? `${int(fresh)} calls not rolled up (BENCH_PAGES_FRESH) · ` : "") +
    `load average ${loadAtStart} at start, ${load()} at end · ${((performance.now() - started) / 1000).toFixed(0)} s`;
  const errors = failures.length ? `\n${failures.length} failed loads; first: ${failures[0]}\n` : "";
  process.stdout.write(`\n${table}\n\n${summary}\n${errors}${context}\n`);
  const out = join(dir, fresh > 0 ? "pages-fresh.md" : "pages.md");
  mkdirSync(dirname(out), { recursive: true });
  writeFileSync(
    out,
    `# Page benchmark\n\n${context}\n\n${table}\n\n${summary}\n${errors}\n` +
      "Time per load is wall-clock from sending the request to the last byte of the body, over loopback, one request at a time, " +
      "with a logged-in session; rows marked (htmx) are sent with `hx-request: true` and answered with a fragment. " +
      `p95 is nearest-rank over ${loads} loads.\n`,
  );
  log(`written to ${out}`);
  return rows;
}

const int = (x: number) => x.toLocaleString("en-US");
const ms = (x: number) => `${x.toFixed(1)} ms`;

function pagesTable(rows: readonly PageRow[]): string {
  const head = ["page", "what", "p50", "p95", "max", "size", "target", "result"];
  const cells = rows.map((r) => [`\`${r.page.length > 60 ? `${r.page.slice(0, 57)}…` : r.page}\``, r.what, ms(r.p50), ms(r.p95), ms(r.max), `${(r.bytes / 1024).toFixed(0)} KB`, `p95 ≤ ${PAGE_TARGET_P95_MS} ms`, r.result]);
  const widths = head.map((h, i) => Math.max(h.length, ...cells.map((c) => c[i]!.length)));
  const line = (c: string[]) => `| ${c.map((s, i) => s.padEnd(widths[i]!)).join(" | ")} |`;
  return [line(head), `|${widths.map((w) => "-".repeat(w + 2)).join("|")}|`, ...cells.map(line)].join("\n");
}
