import { sql } from "drizzle-orm";
import { inject } from "vitest";
import { runRollup } from "../../jobs/rollup.ts";
import type { Clock } from "../../server/clock.ts";
import { connectDatabase } from "../../server/db/connect.ts";
import type { Db } from "../../server/db/database.ts";
import { databasePath } from "../../server/db/open.ts";
import { openPostgres, type PgDb } from "../../server/db/postgres.ts";
import { sqliteClient } from "../../server/db/sqlite.ts";
import { ROLLUP_WATERMARK, readState } from "../../server/job-runs/job-state.ts";
import { parseUsdToMicro } from "../../server/money.ts";
import { parseInstant } from "../../server/time.ts";
import { PriceBook } from "../../server/prices/price-book.ts";
import { insertPrice } from "../../server/prices/prices-store.ts";
import { repriceRange } from "../../server/prices/reprice.ts";
import { writeCallBatch } from "../../server/recorder/pg-insert.ts";
import type { CallRecord } from "../../server/recorder/recorder.ts";
import { parseUsageParams } from "../../server/usage/query-params.ts";
import { ROLLUP_LOCK, readXidWatermark } from "../../server/usage/rollups/postgres/commit-watermark.ts";
import { usageCsv } from "../../server/usage/usage-csv.ts";
import { untilRollupCanTakeAll } from "../pg/rollup-ready.ts";
import { usageJson, type UsageJson } from "../../server/usage/usage-json.ts";
import { queryUsage } from "../../server/usage/usage-query.ts";
import { createTestDatabase, startThrowawayPostgres } from "../pg/throwaway-postgres.ts";
import { startTestServer, type TestServer } from "../harness.ts";
import Database from "better-sqlite3";
import { runJobCli } from "./run-cli.ts";
import { recordCalls } from "./spend-fixtures.ts";

// The spend suites on either engine, behind one interface. On SQLite: the real server, calls
// recorded by its Recorder, figures read over HTTP (/api/usage, .csv, POST /api/prices,
// /api/prices/reprice), two rollups raced as two `npm run job` processes. On PostgreSQL the server
// does not serve yet, so the same work goes through the functions those routes call: calls
// written by the recorder's PostgreSQL batch writer priced by the same PriceBook, parseUsageParams
// → queryUsage → usageJson for /api/usage, usageCsv for the CSV, insertPrice, repriceRange, and
// two rollups raced on two connection pools.

type CallRow = CallRecord["call"];

export interface SpendEngine {
  readonly name: "sqlite" | "postgres";
  readonly db: Db;
  /** Record calls, priced as the recorder prices them, and wait until they are committed. */
  record(calls: CallRow[]): Promise<void>;
  /** GET /api/usage?… as parsed JSON. */
  usage(path: string): Promise<UsageJson>;
  /** GET /api/usage.csv?… as text. */
  usageCsv(path: string): Promise<string>;
  /** An admin price (POST /api/prices): USD per million tokens, effective_from a date or instant. */
  adminPrice(model: string, input: string, output: string, effectiveFrom: string): Promise<void>;
  /** A price row from the sync, straight into the catalog. */
  syncPrice(model: string, inputMicro: number, outputMicro: number, effectiveFrom: number): Promise<void>;
  /** POST /api/prices/reprice?from=…&to=… (instants): calls re-priced. */
  reprice(from: string, to: string): Promise<number>;
  /** Calls the rollup has not taken yet. */
  pendingCalls(): Promise<number>;
  /** Two rollups started while a third holder keeps the rollup lock, released together: each one's count. */
  racingRollups(): Promise<number[]>;
  stop(): Promise<void>;
}

export type SpendEngineName = SpendEngine["name"];
export const SPEND_ENGINES: SpendEngineName[] = ["sqlite", "postgres"];

export interface SpendEngineOptions {
  /**
   * PostgreSQL on a server of its own rather than the run's shared one. The oldest running
   * transaction is a cluster-wide horizon (the rollup's watermark stops below it), so another
   * test file's open transaction in another database would hold this file's rollups back, and a
   * test that counts the calls a rollup takes would race the rest of the run.
   */
  ownServer?: boolean;
}

export function startSpendEngine(name: SpendEngineName, clock: Clock, opts: SpendEngineOptions = {}): Promise<SpendEngine> {
  return name === "sqlite" ? sqliteEngine(clock) : postgresEngine(clock, opts);
}

async function ok(res: Response): Promise<Response> {
  if (res.status !== 200 && res.status !== 201) throw new Error(`${res.url} → ${res.status}: ${await res.text()}`);
  return res;
}

async function sqliteEngine(clock: Clock): Promise<SpendEngine> {
  const server: TestServer = await startTestServer({}, clock);
  return {
    name: "sqlite",
    db: server.db,
    record: (calls) => recordCalls(server, calls),
    usage: async (path) => (await (await ok(await server.api(path))).json()) as UsageJson,
    usageCsv: async (path) => (await ok(await server.api(path.replace("/api/usage?", "/api/usage.csv?")))).text(),
    async adminPrice(model, input, output, effective_from) {
      const body = JSON.stringify({ model, input_usd_per_mtok: input, output_usd_per_mtok: output, effective_from });
      await ok(await server.api("/api/prices", { method: "POST", headers: { "content-type": "application/json" }, body }));
    },
    async syncPrice(model, input, output, effectiveFrom) {
      sqliteClient(server.db)
        .prepare("INSERT INTO prices (model, input_micro_per_mtok, output_micro_per_mtok, effective_from, source, created_at) VALUES (?, ?, ?, ?, 'sync', 0)")
        .run(model, input, output, effectiveFrom);
    },
    async reprice(from, to) {
      const res = await ok(await server.api(`/api/prices/reprice?from=${from}&to=${to}`, { method: "POST" }));
      return ((await res.json()) as { calls_repriced: number }).calls_repriced;
    },
    async pendingCalls() {
      const watermark = await readState(server.db, ROLLUP_WATERMARK);
      return (await server.db.get<{ n: number }>(sql`SELECT COUNT(*) AS n FROM calls WHERE id > ${watermark}`))!.n;
    },
    async racingRollups() {
      // Hold the write lock so both processes are waiting on it when it is released, then race.
      const blocker = new Database(databasePath(server.config.DATABASE_URL));
      blocker.exec("BEGIN IMMEDIATE");
      const env = { DATABASE_URL: server.config.DATABASE_URL };
      const runs = [runJobCli(["rollup"], env), runJobCli(["rollup"], env)];
      await new Promise((r) => setTimeout(r, 1500));
      blocker.exec("COMMIT");
      blocker.close();
      const results = await Promise.all(runs);
      for (const r of results) if (r.code !== 0) throw new Error(r.stderr);
      return results.map((r) => Number(/rollup: (\d+) calls/.exec(r.stdout)?.[1]));
    },
    stop: () => server.stop(),
  };
}

async function postgresEngine(clock: Clock, opts: SpendEngineOptions): Promise<SpendEngine> {
  const own = opts.ownServer ? await startThrowawayPostgres() : null;
  const created = await createTestDatabase(own?.adminUrl ?? inject("pgAdminUrl"), "spend");
  const db = await connectDatabase(created.url, { poolMax: 4 });
  // The recorder's own pool and batch writer (server/recorder/pg-insert.ts).
  const writer: PgDb = (await openPostgres(created.url, { poolMax: 2, migrate: false })).db;
  // Month partitions as a running deployment has them (made ahead at every start), here for
  // the test's own months, so retention has whole months to drop.
  await db.run(sql`SELECT tollbooth_ensure_calls_partitions(${clock.now() - 120 * 86_400_000}, 5)`);
  const handles: Db[] = [];
  return {
    name: "postgres",
    db,
    async record(calls) {
      const book = await PriceBook.load(db);
      const client = await writer.$client.connect();
      try {
        for (let i = 0; i < calls.length; i += 500) {
          await writeCallBatch(client, calls.slice(i, i + 500).map((call) => ({ call })), (call) => book.costOf(call));
        }
      } finally {
        client.release();
      }
    },
    usage: async (path) => JSON.parse(JSON.stringify(usageJson(await queryUsage(db, parseUsageParams(queryOf(path), "UTC", clock.now()))))) as UsageJson,
    usageCsv: async (path) => usageCsv(usageJson(await queryUsage(db, parseUsageParams(queryOf(path), "UTC", clock.now())))),
    async adminPrice(model, input, output, effectiveFrom) {
      // As POST /api/prices reads them: USD text to micro-USD, a bare date as REPORT_TZ (UTC) midnight.
      const effective = parseInstant(effectiveFrom, "UTC");
      await insertPrice(db, { model, inputMicroPerMtok: parseUsdToMicro(input), outputMicroPerMtok: parseUsdToMicro(output), effectiveFrom: effective, source: "admin", createdAt: clock.now() });
    },
    async syncPrice(model, input, output, effectiveFrom) {
      await insertPrice(db, { model, inputMicroPerMtok: input, outputMicroPerMtok: output, effectiveFrom, source: "sync", createdAt: 0 });
    },
    async reprice(from, to) {
      return (await repriceRange(db, Date.parse(from), Date.parse(to))).callsRepriced;
    },
    async pendingCalls() {
      const watermark = await readXidWatermark(db);
      return (await db.get<{ n: number }>(sql`SELECT COUNT(*) AS n FROM calls WHERE commit_xid >= ${watermark}`))!.n;
    },
    async racingRollups() {
      // Two more pools, as two instances would have; a third connection holds the rollup lock.
      const a = await connectDatabase(created.url, { poolMax: 2, migrate: false });
      const b = await connectDatabase(created.url, { poolMax: 2, migrate: false });
      handles.push(a, b);
      await untilRollupCanTakeAll(db); // else both runs can take nothing (see rollup-ready.ts)
      const blocker = await writer.$client.connect();
      try {
        await blocker.query("SELECT pg_advisory_lock($1)", [ROLLUP_LOCK]);
        const runs = [runRollup(a, clock.now()), runRollup(b, clock.now())];
        await new Promise((r) => setTimeout(r, 500));
        await blocker.query("SELECT pg_advisory_unlock($1)", [ROLLUP_LOCK]);
        return (await Promise.all(runs)).map((r) => r.calls);
      } finally {
        blocker.release();
      }
    },
    async stop() {
      for (const h of handles) await h.close();
      await writer.$client.end();
      await db.close();
      await created.drop();
      await own?.stop();
    },
  };
}

function queryOf(path: string): Record<string, string> {
  return Object.fromEntries(new URLSearchParams(path.slice(path.indexOf("?") + 1)));
}
