import { logIn } from "./log-in.ts";
import { existsSync, mkdirSync, realpathSync, statSync, writeFileSync } from "node:fs";
import { cpus, loadavg } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { startChild, type Child } from "./child-rpc.ts";
import { copyDataSet, type DataCopy } from "./data-copy.ts";
import {
  TARGET_HEALTHZ_MS,
  dashboardPhaseRows,
  dashboardRows,
  failedRow,
  loadFigures,
  lockedPhaseRows,
  rollupRow,
  runsDuring,
  type JobRunJson,
  type LoadFigures,
  type Sample,
} from "./contention-report.ts";
import { NEVER_CRON, dashboardRequests, rollupCronDuring } from "./contention-requests.ts";
import type { LoopRecord } from "./http-loop-child.ts";
import { makeTarget, newTally, throughputRound, type Tally } from "./load.ts";
import { SCENARIOS } from "./scenarios.ts";
import { intEnv } from "./settings.ts";
import { GENERATOR_VERSION, ensureSpendDb } from "./spend-data.ts";
import { markdownTable, type Row } from "./table.ts";

// The contention benchmark: does the proxy keep serving /v1 while the database is busy? On a copy
// of the spend data set (10M calls), with the real server in its own process, in three phases:
//   quiet      proxied JSON chat completions on a few keep-alive connections, nothing else;
//   dashboard  the same load while a dashboard user loops over the heaviest pages and /api
//              queries and the server's own rollup runs (cron ticks pinned inside the phase);
//   locked     the same load while another process holds SQLite's write lock and a probe
//              polls /healthz every 50 ms.
// Targets: proxied throughput ≥ 0.5× quiet and p99 ≤ quiet + 5 ms in the dashboard phase;
// /healthz under 100 ms while the database is locked.
//
// Everything talks to the server over HTTP only (and the lock holder to the SQLite file), so the
// benchmark measures any version of the server the same way. Processes: this one generates the
// proxied load; children are the fake upstream, the server (a fresh one per phase, with that
// phase's cron settings), the dashboard user or /healthz probe (http-loop-child.ts) and the lock
// holder. Exit code 0 even when a target is missed: it measures, it does not test.
//
// Knobs: BENCH_QUICK=1 (200k calls, seconds-long phases), BENCH_CALLS, BENCH_CONTENTION_S (quiet
// and dashboard phase seconds), BENCH_CONTENTION_CONNECTIONS (4), BENCH_CONTENTION_DASHBOARDS
// (dashboard users, 1), BENCH_LOCK_S (8), BENCH_SPEND_DIR (bench/out: data set, contention.md),
// BENCH_CONTENTION_DB (a copy of the data set of your own, written to; see privateCopy).

const here = dirname(fileURLToPath(import.meta.url));

interface ContentionSettings {
  quick: boolean;
  calls: number;
  connections: number;
  dashboards: number;
  warmupSeconds: number;
  quietSeconds: number;
  dashboardSeconds: number;
  /** Seconds between the server's rollup ticks in the dashboard phase. */
  rollupEvery: number;
  lockBeforeSeconds: number;
  lockSeconds: number;
  lockAfterSeconds: number;
  healthzEveryMs: number;
}

function loadSettings(env: NodeJS.ProcessEnv = process.env): ContentionSettings {
  const quick = env.BENCH_QUICK === "1" || env.BENCH_QUICK === "true";
  const phase = intEnv(env, "BENCH_CONTENTION_S", quick ? 4 : 20);
  return {
    quick,
    calls: intEnv(env, "BENCH_CALLS", quick ? 200_000 : 10_000_000),
    connections: intEnv(env, "BENCH_CONTENTION_CONNECTIONS", 4),
    dashboards: intEnv(env, "BENCH_CONTENTION_DASHBOARDS", 1),
    warmupSeconds: quick ? 1 : 3,
    quietSeconds: phase,
    dashboardSeconds: phase,
    rollupEvery: 2,
    lockBeforeSeconds: quick ? 0.5 : 1,
    lockSeconds: intEnv(env, "BENCH_LOCK_S", quick ? 2 : 8),
    lockAfterSeconds: quick ? 1 : 3,
    healthzEveryMs: 50,
  };
}

interface ServerInfo {
  url: string;
  adminToken: string;
}

const epochNow = () => performance.timeOrigin + performance.now();
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export async function runContentionBench(): Promise<Row[]> {
  const started = performance.now();
  const log = (msg: string) => process.stderr.write(`[contention ${((performance.now() - started) / 1000).toFixed(1).padStart(6)} s] ${msg}\n`);
  const load = () => loadavg().map((x) => x.toFixed(1)).join(" ");
  const loadAtStart = load();
  const settings = loadSettings();
  const dir = process.env.BENCH_SPEND_DIR || join(here, "out");
  log(`mode ${settings.quick ? "quick" : "full"}: ${JSON.stringify(settings)}`);

  const data = await ensureSpendDb(dir, settings.calls, log);
  // The server under test records calls and rolls them up: never into the shared cached file.
  const copy = privateCopy(data.path, log);
  const gb = (copy.bytes / 1e9).toFixed(1);

  const children: Child<unknown>[] = [];
  const start = async <Info>(file: string, env: Record<string, string> = {}) => {
    const child = await startChild<Info>(join(here, file), env);
    children.push(child as Child<unknown>);
    return child;
  };
  const stop = async (child: Child<unknown>) => {
    children.splice(children.indexOf(child), 1);
    await child.stop();
  };

  const tally: Tally = newTally();
  const rows: Row[] = [];
  const notes: string[] = [];
  try {
    const upstream = await start<{ url: string }>("upstream-child.ts");
    const side = await start<Record<string, never>>("http-loop-child.ts");
    // Shared by every phase's server: the data set's dates are in the past, retention must not
    // delete them, and the dashboard's days are New York's (not UTC midnight, the harder case).
    const baseEnv = { REPORT_TZ: "America/New_York", RETENTION_CALLS_DAYS: "36500", LOG_BODIES: "errors" };
    let serverStartMs = 0;
    const startServer = async (env: Record<string, string>) => {
      const t0 = performance.now();
      const server = await start<ServerInfo>("contention-server-child.ts", {
        BENCH_DB_PATH: copy.path,
        BENCH_UPSTREAM_URL: upstream.info.url,
        BENCH_SERVER_ENV: JSON.stringify({ ...baseEnv, ...env }),
      });
      serverStartMs = performance.now() - t0;
      return server;
    };
    const proxied = async (server: ServerInfo, seconds: number): Promise<{ figures: LoadFigures; samples: Sample[] }> => {
      const samples: Sample[] = [];
      const result = await throughputRound(makeTarget("tollbooth", `${server.url}/v1`), [SCENARIOS[0]!], settings.connections, seconds, tally, (at, ms, ok) =>
        samples.push({ at: performance.timeOrigin + at, ms, ok }),
      );
      return { figures: loadFigures(result, samples), samples };
    };
    const warmUp = (server: ServerInfo) => throughputRound(makeTarget("tollbooth", `${server.url}/v1`), [SCENARIOS[0]!], settings.connections, settings.warmupSeconds, tally);

    // 1. Quiet: proxied calls and nothing else (cron off).
    const quietServer = await startServer({ CRON_ENABLED: "false" });
    log(`quiet: server up in ${serverStartMs.toFixed(0)} ms; warm-up ${settings.warmupSeconds} s, then ${settings.quietSeconds} s at ${settings.connections} connections`);
    await warmUp(quietServer.info);
    const quiet = (await proxied(quietServer.info, settings.quietSeconds)).figures;
    log(`quiet: ${quiet.rps.toFixed(0)} req/s, p50 ${quiet.p50.toFixed(2)} ms, p99 ${quiet.p99.toFixed(2)} ms, max ${quiet.max.toFixed(1)} ms`);
    await stop(quietServer);

    // 2. Dashboard + rollup. The rollup ticks are pinned inside the phase (see rollupCronDuring);
    //    the calls the quiet phase recorded are not rolled up yet, so the first run has work.
    const phaseAt = epochNow() + serverStartMs * 1.5 + settings.warmupSeconds * 1000 + 500;
    const rollupCron = rollupCronDuring(phaseAt, settings.dashboardSeconds, settings.rollupEvery);
    const never = { PRICES_SYNC_CRON: NEVER_CRON, RETENTION_CRON: NEVER_CRON, REPORTS_CRON: NEVER_CRON };
    const busyServer = await startServer({ CRON_ENABLED: "true", ROLLUP_CRON: rollupCron, ...never });
    log(`dashboard: server up in ${serverStartMs.toFixed(0)} ms, ROLLUP_CRON="${rollupCron}"; warm-up ${settings.warmupSeconds} s`);
    await warmUp(busyServer.info);
    const cookie = await logIn(busyServer.info);
    const requests = dashboardRequests(busyServer.info.adminToken, cookie);
    log(`dashboard: ${settings.dashboardSeconds} s, ${settings.dashboards} dashboard user(s) over ${requests.length} requests, rollup every ${settings.rollupEvery} s`);
    const busyStart = epochNow();
    await side.call("start", { origin: busyServer.info.url, loops: Array.from({ length: settings.dashboards }, () => ({ requests })) });
    const busy = (await proxied(busyServer.info, settings.dashboardSeconds)).figures;
    const busyEnd = epochNow();
    log(`dashboard: ${busy.rps.toFixed(0)} req/s, p50 ${busy.p50.toFixed(2)} ms, p99 ${busy.p99.toFixed(2)} ms, max ${busy.max.toFixed(1)} ms; waiting for the dashboard's request in flight`);
    const dashboard = await side.call<LoopRecord[]>("stop");
    const runs = await getJson<{ data: JobRunJson[] }>(busyServer.info, "/api/jobs?job=rollup&limit=100");
    rows.push(...dashboardPhaseRows(quiet, busy, settings.connections), rollupRow(runs.data, busyStart, busyEnd), ...dashboardRows(dashboard, requests.map((r) => r.label)));
    if (runsDuring(runs.data, busyStart, busyEnd).length === 0) {
      // node-cron skips a tick that fires more than a second late, i.e. while the thread that
      // runs the scheduler is busy: say so rather than let the table look like a quiet rollup.
      notes.push(`The server's rollup did not run during the dashboard phase (ROLLUP_CRON="${rollupCron}"): its ticks came while the scheduler's thread was busy.`);
    }
    await stop(busyServer);

    // 3. Locked: another process holds the write lock while the proxy serves and /healthz is polled.
    const lockedServer = await startServer({ CRON_ENABLED: "false" });
    const holder = await start<Record<string, never>>("lock-holder-child.ts", { BENCH_DB_PATH: copy.path });
    const total = settings.lockBeforeSeconds + settings.lockSeconds + settings.lockAfterSeconds;
    log(`locked: warm-up ${settings.warmupSeconds} s, then ${total} s of load with the write lock held from ${settings.lockBeforeSeconds} s for ${settings.lockSeconds} s`);
    await warmUp(lockedServer.info);
    await side.call("start", { origin: lockedServer.info.url, loops: [{ requests: [{ label: "/healthz", path: "/healthz" }], intervalMs: settings.healthzEveryMs }] });
    const lockedLoad = proxied(lockedServer.info, total);
    await sleep(settings.lockBeforeSeconds * 1000);
    const lock = await holder.call<{ waitedMs: number; acquiredAt: number }>("lock", settings.lockSeconds * 1000);
    await holder.call("released");
    const locked = (await lockedLoad).figures;
    const healthz = await side.call<LoopRecord[]>("stop");
    log(`locked: ${locked.rps.toFixed(0)} req/s, p99 ${locked.p99.toFixed(1)} ms, max ${locked.max.toFixed(0)} ms; /healthz max ${Math.max(...healthz.map((r) => r.ms)).toFixed(0)} ms`);
    rows.push(...lockedPhaseRows(quiet, locked, healthz, settings.lockSeconds * 1000, lock.waitedMs));
    await stop(holder);
    await stop(lockedServer);
    rows.push(failedRow({ quiet, dashboard: busy, locked }, tally.failed));
    if (tally.firstError) notes.push(`First failed proxied request: ${tally.firstError}`);
  } finally {
    for (const child of children.reverse()) await child.stop().catch(() => {});
    copy.remove();
  }

  const table = markdownTable(rows, { direct: "quiet", tollbooth: "under contention" });
  const missed = rows.filter((r) => r.result === "MISSED");
  const summary = missed.length ? `MISSED ${missed.length} target(s): ${missed.map((r) => r.metric).join("; ")}` : "All targets met.";
  const context =
    `${settings.quick ? "BENCH_QUICK=1 " : ""}npm run bench:contention · node ${process.version} · ${cpus().length} CPU(s) · ` +
    `data set generator v${GENERATOR_VERSION}, ${settings.calls.toLocaleString("en-US")} calls (${data.generatedSeconds === null ? "cached" : `generated in ${data.generatedSeconds} s`}), ` +
    (process.env.BENCH_CONTENTION_DB ? `BENCH_CONTENTION_DB (${gb} GB, used as it is) · ` : `private copy ${gb} GB in ${copy.copySeconds.toFixed(1)} s + ${copy.flushSeconds.toFixed(1)} s fsync · `) +
    `${settings.connections} proxied connections, JSON · phases: quiet ${settings.quietSeconds} s, dashboard + rollup ${settings.dashboardSeconds} s ` +
    `(${settings.dashboards} dashboard user(s), rollup tick every ${settings.rollupEvery} s), locked ${settings.lockSeconds} s within ${settings.lockBeforeSeconds + settings.lockSeconds + settings.lockAfterSeconds} s ` +
    `(/healthz every ${settings.healthzEveryMs} ms, target < ${TARGET_HEALTHZ_MS} ms), each after a ${settings.warmupSeconds} s warm-up on a fresh server · ` +
    `load average ${loadAtStart} at start, ${load()} at end · ${((performance.now() - started) / 1000).toFixed(0)} s`;
  const noted = notes.map((n) => `${n}\n`).join("");
  process.stdout.write(`\n${table}\n\n${summary}\n${noted}${context}\n`);
  const out = join(dir, "contention.md");
  mkdirSync(dirname(out), { recursive: true });
  writeFileSync(out, `# Contention benchmark\n\n${context}\n\n${table}\n\n${summary}\n${noted}`);
  log(`written to ${out}`);
  return rows;
}

/**
 * The file the server under test writes to: a fresh copy of the cached data set, or with
 * BENCH_CONTENTION_DB=<path> a copy of your own, used as it is (for repeated runs while working
 * on the server: no copy, but each run leaves its calls and rollups in it).
 */
function privateCopy(cached: string, log: (msg: string) => void): DataCopy {
  const own = process.env.BENCH_CONTENTION_DB;
  if (own) {
    if (!existsSync(own)) throw new Error(`BENCH_CONTENTION_DB=${own} does not exist (cp --reflink=auto ${cached} ${own})`);
    if (realpathSync(own) === realpathSync(cached)) throw new Error("BENCH_CONTENTION_DB must not be the shared cached data set: the server writes to it");
    log(`using ${own} as it is (BENCH_CONTENTION_DB)`);
    return { path: own, bytes: statSync(own).size, copySeconds: 0, flushSeconds: 0, remove: () => {} };
  }
  log(`copying ${cached}`);
  const copy = copyDataSet(cached, "contention");
  log(`copied ${(copy.bytes / 1e9).toFixed(1)} GB in ${copy.copySeconds.toFixed(1)} s, flushed to disk in ${copy.flushSeconds.toFixed(1)} s → ${copy.path}`);
  return copy;
}


async function getJson<T>(server: ServerInfo, path: string): Promise<T> {
  const res = await fetch(server.url + path, { headers: { authorization: `Bearer ${server.adminToken}` } });
  const text = await res.text();
  if (res.status !== 200) throw new Error(`GET ${path} → HTTP ${res.status}: ${text.slice(0, 300)}`);
  return JSON.parse(text) as T;
}
