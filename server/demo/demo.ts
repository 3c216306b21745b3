import { PriceBook } from "../prices/price-book.ts";
import { sql } from "drizzle-orm";
import { createServer } from "node:net";
import { dirname, join, resolve } from "node:path";
import { loadConfig, type Config } from "../config.ts";
import { connectDatabase } from "../db/connect.ts";
import type { Db } from "../db/database.ts";
import { engineFor, maskDatabaseUrl } from "../db/engine.ts";
import { createLogger } from "../log.ts";
import { startServer, type RunningServer } from "../start.ts";
import { DEMO_ZONE, seedHistory, type SeedResult } from "./history.ts";
import { startLiveTraffic, type LiveTraffic } from "./live-traffic.ts";
import { startNscaleSimulator, type NscaleSimulator } from "./nscale-simulator.ts";
import { postgresSeedStore, resetPostgresDatabase } from "./postgres-seed.ts";
import type { SeedStore } from "./seed-store.ts";
import { resetSqliteDatabase, sqliteSeedStore } from "./sqlite-seed.ts";

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
  const engine = engineFor(env.DATABASE_URL ?? DEMO_DEFAULTS.DATABASE_URL);
  // Own data folder (admin token, recorder journal) so the demo never prints or replays a real
  // instance's files kept next to it in ./data.
  env.DATA_DIR ??= join(engine.kind === "sqlite" ? dirname(resolve(engine.path)) : "./data", "demo");
  // The upstream is always the simulator: the demo never sends anything to Nscale.
  const demoConfig = (upstream: string) => loadConfig({ ...env, UPSTREAM_BASE_URL: upstream, UPSTREAM_API_KEY: "sk-demo-price-sync-0000" });
  // Bad config and a busy port stop start-up before anything is deleted or started.
  const checked = demoConfig("http://127.0.0.1:9/v1");
  await assertPortFree(checked.HOST, checked.PORT);
  if (opts.reset) await resetDemoDatabase(env.DATABASE_URL ?? DEMO_DEFAULTS.DATABASE_URL);

  const simulator = await startNscaleSimulator({ latencyScale: opts.latencyScale });
  let server: RunningServer | null = null;
  try {
    const config = demoConfig(simulator.url);
    // Seed before the server starts: its writer thread rolls up every few seconds, and 200k rows
    // written beside it would wait on its write lock. One connection of our own, closed after.
    const { seeded, calls } = await seedDemoDatabase(config, opts);
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

/** Start over: delete the demo's database (SQLite: the files; PostgreSQL: what tollbooth created in it), only if the demo wrote it or it holds no calls. */
export async function resetDemoDatabase(url: string): Promise<void> {
  const engine = engineFor(url);
  const refuse = (shown: string) => () => new DemoError(`--reset: ${shown} was not written by the demo; not deleting it`);
  if (engine.kind === "sqlite") resetSqliteDatabase(engine.path, SEED_STARTED, refuse(engine.path));
  else await resetPostgresDatabase(engine.url, SEED_STARTED, refuse(maskDatabaseUrl(engine.url)));
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

/**
 * Seed the demo history into an empty database (once), and count its calls. On either engine
 * (DATABASE_URL): the history is written as the recorder writes on it, with one connection of
 * the demo's own, closed after.
 */
export async function seedDemoDatabase(
  config: Config,
  opts: Pick<DemoOptions, "days" | "seed" | "volume" | "onSeedProgress"> & { now?: number },
): Promise<{ seeded: SeedResult | null; calls: number }> {
  const db = await connectDatabase(config.DATABASE_URL, { poolMax: 2 });
  const shown = engineFor(config.DATABASE_URL).kind === "sqlite" ? config.DATABASE_URL : maskDatabaseUrl(config.DATABASE_URL);
  try {
    const state = async (name: string) => (await db.get<{ value: number }>(sql`SELECT value FROM job_state WHERE name = ${name}`))?.value;
    const setState = (name: string, value: number) =>
      db.run(sql`INSERT INTO job_state (name, value) VALUES (${name}, ${value}) ON CONFLICT (name) DO UPDATE SET value = excluded.value`);
    const hasCalls = (await db.get(sql`SELECT 1 AS one FROM calls LIMIT 1`)) !== undefined;

    let seeded: SeedResult | null = null;
    if ((await state(SEEDED)) === undefined) {
      if (hasCalls && (await state(SEED_STARTED)) !== undefined) {
        throw new DemoError(`the demo database ${shown} was only partly seeded (interrupted?): run \`npm run demo -- --reset\``);
      }
      if (hasCalls) {
        throw new DemoError(`${shown} holds calls the demo did not write; the demo will not mix simulated traffic into it. Set DATABASE_URL to another database.`);
      }
      const now = opts.now ?? Date.now();
      await setState(SEED_STARTED, now);
      const history = { seed: opts.seed ?? 42, now, days: opts.days ?? 90, timeoutMs: config.UPSTREAM_TIMEOUT_MS, volume: opts.volume };
      // Priced like the writer thread prices live calls.
      const prices = new PriceBook(db);
      const store = seedStore(db, config, prices);
      try {
        seeded = await seedHistory(store.sink, history, opts.onSeedProgress);
        await setState(SEEDED, seeded.calls);
        await store.finish();
      } finally {
        await store.close();
      }
    }
    return { seeded, calls: (await db.get<{ n: number }>(sql`SELECT COUNT(*) AS n FROM calls`))!.n };
  } finally {
    await db.close();
  }
}

function seedStore(db: Db, config: Config, prices: PriceBook): SeedStore {
  const opts = { db, url: config.DATABASE_URL, priceCall: (call: Parameters<PriceBook["costOf"]>[0]) => prices.costOf(call), beforeBatch: () => prices.refresh() };
  return db.dialect === "postgres" ? postgresSeedStore(opts) : sqliteSeedStore(opts, createLogger(config.LOG_LEVEL));
}
