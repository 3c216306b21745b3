import { Recorder } from "../recorder/recorder.ts";
import { PriceBook } from "../prices/price-book.ts";
import Database from "better-sqlite3";
import { existsSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { dirname, join, resolve } from "node:path";
import { loadConfig, type Config } from "../config.ts";
import { databasePath, openDatabase } from "../db/open.ts";
import { sqliteClient } from "../db/sqlite.ts";
import { createLogger } from "../log.ts";
import { startServer, type RunningServer } from "../start.ts";
import { DEMO_ZONE, seedHistory, type SeedResult } from "./history.ts";
import { startLiveTraffic, type LiveTraffic } from "./live-traffic.ts";
import { startNscaleSimulator, type NscaleSimulator } from "./nscale-simulator.ts";
import { rollupPending } from "../usage/rollups/buckets.ts";

// `npm run demo`: tollbooth in front of the Nscale simulator, with 90 days of seeded history
// (once per database) and live calls flowing through the real proxy. Used by the CLI
// (server/demo/main.ts) and by test/demo.

export interface DemoOptions {
  /** Config variables as a user sets them (PORT, DATABASE_URL, ADMIN_TOKEN, …). */
  env?: Record<string, string | undefined>;
  /** Delete the demo database first (only one the demo wrote). */
  reset?: boolean;
  days?: number;
  seed?: number;
  /** Scale of the seeded volume (1 ≈ 230k calls over 90 days). */
  volume?: number;
  /** Live calls per second through the proxy; 0 = none. */
  liveRate?: number;
  /** Simulator latency scale: 1 = realistic, 0 = instant. */
  latencyScale?: number;
  /** Called every 10k seeded calls with the count so far and the time reached. */
  onSeedProgress?: (calls: number, upTo: number) => void;
}

export interface Demo {
  url: string;
  port: number;
  adminToken: string;
  config: Config;
  server: RunningServer;
  simulator: NscaleSimulator;
  /** What was seeded now, or null when an already seeded demo database was reused. */
  seeded: SeedResult | null;
  /** Calls in the database after start-up. */
  calls: number;
  traffic: LiveTraffic | null;
  stop(): Promise<void>;
}

/** A start-up problem the user can fix; the CLI prints its message alone. */
export class DemoError extends Error {}

const DEMO_DEFAULTS = {
  DATABASE_URL: "./data/demo.db",
  // 504s take this long; shorter than the 120 s default so a stalled demo call ends soon.
  UPSTREAM_TIMEOUT_MS: "20000",
  REPORT_TZ: DEMO_ZONE,
} as const;

// job_state rows that mark a database as the demo's (and whether its seeding finished).
const SEED_STARTED = "demo:seed-started";
const SEEDED = "demo:seeded";

export async function startDemo(opts: DemoOptions = {}): Promise<Demo> {
  const env: Record<string, string> = { ...DEMO_DEFAULTS, ...withoutEmpty(opts.env ?? {}) };
  const dbPath = databasePath(env.DATABASE_URL ?? DEMO_DEFAULTS.DATABASE_URL);
  // Own data folder (admin token, recorder journal) so the demo never prints or replays a real
  // instance's files kept next to it in ./data.
  env.DATA_DIR ??= join(dirname(resolve(dbPath)), "demo");
  // The upstream is always the simulator: the demo never sends anything to Nscale.
  const demoConfig = (upstream: string) => loadConfig({ ...env, UPSTREAM_BASE_URL: upstream, UPSTREAM_API_KEY: "sk-demo-price-sync-0000" });
  // Bad config and a busy port stop start-up before anything is deleted or started.
  const checked = demoConfig("http://127.0.0.1:9/v1");
  await assertPortFree(checked.HOST, checked.PORT);
  if (opts.reset) resetDatabase(dbPath);

  const simulator = await startNscaleSimulator({ latencyScale: opts.latencyScale });
  let server: RunningServer | null = null;
  try {
    const config = demoConfig(simulator.url);
    // Seed before the server starts: its writer thread rolls up every few seconds, and 200k rows
    // written beside it would wait on its write lock. One connection of our own, closed after.
    const { seeded, calls } = await seedIfNeeded(config, dbPath, opts);
    server = await startServer(config);
    const rate = opts.liveRate ?? 2;
    const loopback = loopbackUrl(config.HOST, server.port);
    if (rate > 0 && !loopback) server.log.warn(`demo: live traffic goes to loopback only and HOST=${config.HOST} is not; no live traffic`);
    const traffic = rate > 0 && loopback ? startLiveTraffic({ baseUrl: loopback, ratePerSecond: rate }) : null;
    const running = server;
    let stopping: Promise<void> | null = null;
    return {
      url: server.url,
      port: server.port,
      adminToken: server.adminToken,
      config,
      server,
      simulator,
      seeded,
      calls,
      traffic,
      stop: () =>
        (stopping ??= (async () => {
          await traffic?.stop();
          await running.close();
          await simulator.close();
        })()),
    };
  } catch (err) {
    await server?.close();
    await simulator.close();
    throw err;
  }
}

/** Where the live traffic reaches this server over loopback, or null when it listens elsewhere only. */
function loopbackUrl(host: string, port: number): string | null {
  if (["127.0.0.1", "localhost", "0.0.0.0", "::"].includes(host)) return `http://127.0.0.1:${port}`;
  return host === "::1" ? `http://[::1]:${port}` : null;
}

function withoutEmpty(env: Record<string, string | undefined>): Record<string, string> {
  return Object.fromEntries(Object.entries(env).filter((e): e is [string, string] => e[1] !== undefined && e[1] !== ""));
}

/** Delete the database files, but only of a database the demo seeded (or one without calls). */
function resetDatabase(dbPath: string): void {
  if (dbPath === ":memory:" || !existsSync(dbPath)) return;
  const db = new Database(dbPath, { readonly: true, fileMustExist: true });
  try {
    const tables = new Set(db.prepare("SELECT name FROM sqlite_master WHERE type = 'table'").pluck().all() as string[]);
    const hasCalls = tables.has("calls") && db.prepare("SELECT EXISTS(SELECT 1 FROM calls)").pluck().get() === 1;
    const isDemo = tables.has("job_state") && db.prepare("SELECT EXISTS(SELECT 1 FROM job_state WHERE name = ?)").pluck().get(SEED_STARTED) === 1;
    if (hasCalls && !isDemo) throw new DemoError(`--reset: ${dbPath} was not written by the demo; not deleting it`);
  } finally {
    db.close();
  }
  for (const suffix of ["", "-wal", "-shm"]) rmSync(dbPath + suffix, { force: true });
}

async function assertPortFree(host: string, port: number): Promise<void> {
  if (port === 0) return;
  await new Promise<void>((resolveFree, reject) => {
    const probe = createServer();
    probe.once("error", (err: NodeJS.ErrnoException) => {
      reject(
        err.code === "EADDRINUSE"
          ? new DemoError(`port ${port} on ${host} is already in use (another tollbooth or demo?): stop it or run with PORT=${port + 1}`)
          : err,
      );
    });
    probe.listen(port, host, () => probe.close(() => resolveFree()));
  });
}

/** Seed the demo history into an empty database (once), and count its calls. */
async function seedIfNeeded(config: Config, dbPath: string, opts: DemoOptions): Promise<{ seeded: SeedResult | null; calls: number }> {
  const db = openDatabase(config.DATABASE_URL);
  try {
    const client = sqliteClient(db);
    const state = (name: string) => client.prepare("SELECT value FROM job_state WHERE name = ?").pluck().get(name) as number | undefined;
    const setState = (name: string, value: number) =>
      client.prepare("INSERT INTO job_state(name, value) VALUES (?, ?) ON CONFLICT(name) DO UPDATE SET value = excluded.value").run(name, value);
    const hasCalls = client.prepare("SELECT EXISTS(SELECT 1 FROM calls)").pluck().get() === 1;

    let seeded: SeedResult | null = null;
    if (state(SEEDED) === undefined) {
      if (hasCalls && state(SEED_STARTED) !== undefined) {
        throw new DemoError(`the demo database ${dbPath} was only partly seeded (interrupted?): run \`npm run demo -- --reset\``);
      }
      if (hasCalls) {
        throw new DemoError(`${dbPath} holds calls the demo did not write; the demo will not mix simulated traffic into it. Set DATABASE_URL to another file.`);
      }
      const now = Date.now();
      setState(SEED_STARTED, now);
      const history = { seed: opts.seed ?? 42, now, days: opts.days ?? 90, timeoutMs: config.UPSTREAM_TIMEOUT_MS, volume: opts.volume };
      // Priced like the writer thread prices live calls.
      const prices = new PriceBook(db);
      const seeder = new Recorder(db, {
        batchSize: 500,
        flushMs: 1_000,
        log: createLogger(config.LOG_LEVEL),
        priceCall: (call) => prices.costOf(call),
        beforeBatch: () => prices.refresh(),
      });
      seeded = await seedHistory(seeder, history, opts.onSeedProgress);
      setState(SEEDED, seeded.calls);
      // One rollup now so the dashboards read the history from rollups at once (the writer
      // thread's scheduler keeps them fresh after that).
      await db.transaction((tx) => rollupPending(tx), { immediate: true });
    }
    return { seeded, calls: client.prepare("SELECT COUNT(*) FROM calls").pluck().get() as number };
  } finally {
    await db.close();
  }
}
