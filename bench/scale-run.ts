import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { sql } from "drizzle-orm";
import { connectDatabase } from "../server/db/connect.ts";
import type { Db } from "../server/db/database.ts";
import { readRollupLagSeconds } from "../server/observability/database-figures.ts";
import { startServerProcess, type ServerProcess } from "../test/server-process.ts";
import { processCpuSeconds, treeCpuSeconds } from "./proc-cpu.ts";
import { postgresBytes, sqliteBytes, type StoredBytes } from "./scale-size.ts";
import { spreadLoad, type SpreadResult } from "./scale-load.ts";
import { SCENARIOS } from "./scenarios.ts";

// One measurement of `npm run bench:scale`: N real tollbooth processes (server/main.ts, every
// scheduler on, rollup every 2 s) on one database, JSON calls spread round-robin over them for a
// fixed window, while a probe connection samples the calls table's row count and the rollup lag
// once a second. Then the load stops, the recorders drain and the rollup catches up, and the
// bytes on disk are read.

export interface Engine {
  kind: "postgres" | "sqlite";
  /** PostgreSQL: URL of a fresh database (SQLite gets a fresh file in the run's data folder). */
  url?: string;
  /** PostgreSQL: the postmaster's pid, whose process tree's CPU time is counted. */
  postmasterPid?: number;
}

export interface RunOptions {
  instances: number;
  upstreamUrl: string;
  connections: number;
  warmupSeconds: number;
  seconds: number;
  log(msg: string): void;
}

interface CpuSeconds {
  tollbooth: number;
  postgres: number;
}

export interface ScaleResult {
  engine: Engine["kind"];
  instances: number;
  load: SpreadResult;
  /** Rows committed per second over the window, from the first and last row-count samples. */
  rowsPerSecond: number;
  /** Highest rollup lag sampled in the window (seconds). */
  maxLagSeconds: number;
  /** CPU used in the window. */
  windowCpu: CpuSeconds;
  /** CPU used from the window's start until every answered call was committed and rolled up. */
  settledCpu: CpuSeconds;
  /** Seconds after the window until every answered call was committed and rolled up. */
  settleSeconds: number;
  rows: number;
  answered: number;
  /** Recorder batches committed in the window, all instances together (from their /metrics). */
  batches: number;
  bytes: StoredBytes;
}

export const ADMIN_TOKEN = "bench-admin-token-0123456789";
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Recorder batches this instance has committed so far (its flush histogram's count). A scrape
 * waits 1 s for the writer thread's figures and answers without them (or with its last ones)
 * when the writer is slower, as a busy writer on 2 shared cores can be: ask again.
 */
export async function recorderBatches(origin: string): Promise<number> {
  for (let attempt = 1; ; attempt++) {
    const res = await fetch(`${origin}/metrics`, { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } });
    const text = await res.text();
    const m = /^tollbooth_recorder_flush_duration_seconds_count (\d+)/m.exec(text);
    if (m) return Number(m[1]);
    if (attempt === 10) throw new Error(`no recorder flush count in ${origin}/metrics after ${attempt} scrapes (HTTP ${res.status})`);
  }
}

async function countRows(db: Db): Promise<number> {
  return Number((await db.get<{ n: number | string }>(sql`SELECT COUNT(*) AS n FROM calls`))!.n);
}

export async function measureInstances(engine: Engine, opts: RunOptions): Promise<ScaleResult> {
  // One data folder for all instances, as on one host: each keeps its own call journal in it.
  const dataDir = mkdtempSync(join(tmpdir(), "tollbooth-scale-"));
  const url = engine.kind === "sqlite" ? join(dataDir, "tollbooth.db") : engine.url!;
  const env = {
    DATABASE_URL: url,
    DATA_DIR: dataDir,
    ADMIN_TOKEN,
    UPSTREAM_BASE_URL: opts.upstreamUrl,
    CRON_ENABLED: "true",
    ROLLUP_CRON: "*/2 * * * * *",
    LOG_LEVEL: "info",
  };
  const procs: ServerProcess[] = [];
  let probe: Db | null = null;
  try {
    // The first one migrates; the others start once the schema is there.
    procs.push(startServerProcess(env));
    const origins = [new URL(await procs[0]!.url).origin];
    for (let i = 1; i < opts.instances; i++) procs.push(startServerProcess(env));
    origins.push(...(await Promise.all(procs.slice(1).map(async (p) => new URL(await p.url).origin))));
    probe = await connectDatabase(url, { poolMax: 1, migrate: false });
    const db = probe;

    // The probe's own backend (row counts, lag) is PostgreSQL work the benchmark adds: left out.
    const probeBackend =
      engine.kind === "postgres" ? Number((await db.get<{ pid: number }>(sql`SELECT pg_backend_pid() AS pid`))!.pid) : null;
    const cpu = (): CpuSeconds => ({
      tollbooth: procs.reduce((n, p) => n + treeCpuSeconds(p.child.pid!), 0),
      postgres: engine.postmasterPid ? treeCpuSeconds(engine.postmasterPid) - (probeBackend ? processCpuSeconds(probeBackend) : 0) : 0,
    });
    const since = (a: CpuSeconds, b: CpuSeconds): CpuSeconds => ({ tollbooth: b.tollbooth - a.tollbooth, postgres: b.postgres - a.postgres });

    const load = spreadLoad(origins, SCENARIOS[0]!, opts.connections);
    await sleep(opts.warmupSeconds * 1000);
    opts.log(`  ${opts.instances} × ${engine.kind}: ${opts.seconds} s at ${opts.connections} connections`);
    const batches = async () => (await Promise.all(origins.map(recorderBatches))).reduce((a, b) => a + b, 0);
    const batches0 = await batches();
    const cpu0 = cpu();
    load.startWindow();
    const t0 = performance.now();
    const samples: Array<{ t: number; rows: number }> = [];
    let maxLag = 0;
    while (performance.now() - t0 < opts.seconds * 1000) {
      const t = performance.now();
      samples.push({ t, rows: await countRows(db) });
      maxLag = Math.max(maxLag, await readRollupLagSeconds(db, Date.now()));
      await sleep(Math.max(0, 1000 - (performance.now() - t)));
    }
    const result = await load.stop();
    const cpuWindow = cpu();
    const windowEnd = performance.now();
    const windowBatches = (await batches()) - batches0;

    // Settle: every answered call committed, then rolled up (lag 0), within 60 s.
    const answered = load.answered();
    let rows = await countRows(db);
    const deadline = Date.now() + 60_000;
    while (rows < answered && Date.now() < deadline) {
      await sleep(100);
      rows = await countRows(db);
    }
    while ((await readRollupLagSeconds(db, Date.now())) > 0 && Date.now() < deadline) await sleep(100);
    const settleSeconds = (performance.now() - windowEnd) / 1000;
    const cpuSettled = cpu();
    if (rows !== answered) opts.log(`  WARNING: ${answered} calls answered, ${rows} rows in calls`);

    const first = samples[0]!;
    const last = samples.at(-1)!;
    const out: ScaleResult = {
      engine: engine.kind,
      instances: opts.instances,
      load: result,
      rowsPerSecond: (last.rows - first.rows) / ((last.t - first.t) / 1000),
      maxLagSeconds: maxLag,
      windowCpu: since(cpu0, cpuWindow),
      settledCpu: since(cpu0, cpuSettled),
      settleSeconds,
      rows,
      answered,
      batches: windowBatches,
      bytes: { calls: 0, rollups: 0, file: null },
    };

    // Stop the instances (SIGTERM: each drains and exits), then measure the store at rest.
    for (const p of procs) p.child.kill("SIGTERM");
    await Promise.all(procs.map((p) => p.exited));
    out.bytes = engine.kind === "postgres" ? await postgresBytes(db) : await sqliteBytes(db, url);
    return out;
  } catch (err) {
    for (const p of procs) opts.log(`  instance log:\n${p.log().slice(-2000)}`);
    throw err;
  } finally {
    for (const p of procs) p.child.kill("SIGKILL");
    await probe?.close();
    rmSync(dataDir, { recursive: true, force: true });
  }
}
