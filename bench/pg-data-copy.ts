import Database from "better-sqlite3";
import { getTableColumns, getTableName } from "drizzle-orm";
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { basename, dirname, join } from "node:path";
import pg from "pg";
import { from as copyFrom } from "pg-copy-streams";
import { calls } from "../server/db/schema.ts";
import { connectDatabase } from "../server/db/connect.ts";
import { ROLLUP_LEVELS } from "../server/usage/rollups/rollup-levels.ts";
import { rollupPending } from "../server/usage/rollups/buckets.ts";
import { holdingBuildLock } from "./build-lock.ts";
import { DURABLE, LOADING, initPgCluster, startPgCluster, syncToDisk, type PgCluster } from "./pg-cluster.ts";
import { DATA_START } from "./spend-data.ts";

// The cached spend data set (spend-data.ts, SQLite) as a PostgreSQL database holding the same
// calls, for benchmarks that compare the engines (usage-engines.ts, requests-engines.ts). Built
// once into a cluster folder next to the SQLite file (bench/out/pg-<file name>/), which stays
// between runs; a .done file marks it complete, a .lock file keeps two processes from building it
// at once (build-lock.ts). The SQLite file is only read.
//
// Built as production would hold the calls:
// 1. tollbooth's own PostgreSQL migrations on an empty database, and the month partitions of the
//    data set's months (tollbooth_ensure_calls_partitions, as the jobs create them ahead);
// 2. the calls streamed from SQLite with COPY, ids kept, in transactions of COPY_ROWS calls (the
//    recorder commits many small batches, so calls carry many commit_xid values, never one for
//    all), with the secondary indexes of calls dropped first and built again after (faster than
//    maintaining them row by row; the same definitions, read from the catalog);
// 3. tollbooth's PostgreSQL rollup (rollupPending, in steps of ROLLUP_STEP calls as the SQLite data
//    set was), on a server with production settings, timed; then every rollup table is checked
//    equal to the SQLite file's (rows, requests, cost);
// 4. VACUUM ANALYZE: what autovacuum leaves on a live database (statistics, and the visibility map
//    that lets index-only scans skip the heap).
// Loading (step 2) runs with fsync off; the server is then stopped, the page cache written out,
// and it is started with fsync on (pg-cluster.ts DURABLE) for the rest and for every benchmark.

const DB_NAME = "tollbooth";
const COPY_ROWS = 100_000;
const ROLLUP_STEP = 1_000_000;

/** The calls columns the SQLite file holds, by their SQL names (PostgreSQL adds commit_xid). */
const COLUMNS = Object.values(getTableColumns(calls)).map((c) => c.name);

export interface PgSpendCopy {
  /** postgres:// URL of the database holding the calls. */
  url: string;
  /** How it was built (the .done file): seconds per step, size. */
  built: PgCopyBuild;
  /** Stop the server (the folder stays for the next run). */
  stop(): Promise<void>;
}

interface PgCopyBuild {
  calls: number;
  copySeconds: number;
  indexSeconds: number;
  rollupSeconds: number;
  vacuumSeconds: number;
  /** pg_database_size after VACUUM. */
  bytes: number;
  created: string;
}

/**
 * The PostgreSQL copy of the SQLite data set at `sqlitePath`, built first if it is not there yet;
 * its server started (production settings) on a free port.
 */
export async function ensurePgSpendCopy(sqlitePath: string, log: (msg: string) => void): Promise<PgSpendCopy> {
  const dir = join(dirname(sqlitePath), `pg-${basename(sqlitePath, ".db")}`);
  const done = `${dir}.done`;
  if (!existsSync(done)) {
    await holdingBuildLock(`${dir}.lock`, log, async () => {
      if (!existsSync(done)) await build(sqlitePath, dir, done, log);
    });
  }
  const built = JSON.parse(readFileSync(done, "utf8")) as PgCopyBuild;
  log(`PostgreSQL copy: cached ${dir} (${built.calls.toLocaleString("en-US")} calls, ${(built.bytes / 1e9).toFixed(1)} GB)`);
  const cluster = await startPgCluster(dir, DURABLE);
  return { url: cluster.urlFor(DB_NAME), built, stop: () => cluster.stop() };
}

async function build(sqlitePath: string, dir: string, done: string, log: (msg: string) => void): Promise<void> {
  const t0 = performance.now();
  const since = () => `${((performance.now() - t0) / 1000).toFixed(0)} s`;
  // Holding the lock: a folder without a .done file is left over from a run that died.
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dirname(dir), { recursive: true });
  initPgCluster(dir);
  log(`PostgreSQL copy: new cluster in ${dir}`);

  let cluster: PgCluster | null = await startPgCluster(dir, LOADING);
  try {
    const admin = await client(cluster.urlFor("postgres"));
    await admin.query(`CREATE DATABASE ${DB_NAME}`);
    await admin.end();
    let url = cluster.urlFor(DB_NAME);
    // tollbooth's migrations, exactly as a server applies them at its first start.
    await (await connectDatabase(url, { poolMax: 2 })).close();

    const sqlite = new Database(sqlitePath, { readonly: true, fileMustExist: true });
    let pgc = await client(url);
    let copySeconds: number;
    let indexSeconds: number;
    let total: number;
    try {
      await pgc.query("SELECT tollbooth_ensure_calls_partitions($1, 3)", [DATA_START]);
      const indexes = (
        await pgc.query<{ name: string; def: string }>(
          `SELECT i.indexname AS name, i.indexdef AS def FROM pg_indexes i
           WHERE i.schemaname = 'public' AND i.tablename = 'calls'
             AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conname = i.indexname)`,
        )
      ).rows;
      for (const index of indexes) await pgc.query(`DROP INDEX "${index.name}"`);

      const tc = performance.now();
      total = await copyCalls(sqlite, pgc, (n) => log(`PostgreSQL copy: ${n.toLocaleString("en-US")} calls copied (${since()})`));
      await pgc.query("SELECT setval(pg_get_serial_sequence('calls', 'id'), (SELECT MAX(id) FROM calls))");
      copySeconds = (performance.now() - tc) / 1000;

      const ti = performance.now();
      await pgc.query("SET maintenance_work_mem = '1GB'");
      for (const index of indexes) {
        // The catalog writes a partitioned table's index as CREATE INDEX … ON ONLY calls: that
        // creates it on the parent alone, left invalid until each partition's index is attached.
        // Without ONLY it is built on every partition, as the migration's CREATE INDEX did.
        await pgc.query(index.def.replace(/ ON ONLY /, " ON "));
        log(`PostgreSQL copy: index ${index.name} built (${since()})`);
      }
      const invalid = (await pgc.query<{ name: string }>("SELECT indexrelid::regclass::text AS name FROM pg_index WHERE indrelid = 'calls'::regclass AND NOT indisvalid")).rows;
      if (invalid.length > 0) throw new Error(`indexes of calls not valid on every partition: ${invalid.map((r) => r.name).join(", ")}`);
      indexSeconds = (performance.now() - ti) / 1000;
    } finally {
      await pgc.end();
    }

    // The rest on production settings: the loaded data written out first.
    await cluster.stop();
    cluster = null;
    syncToDisk();
    cluster = await startPgCluster(dir, DURABLE);
    url = cluster.urlFor(DB_NAME); // a new port

    const tr = performance.now();
    const db = await connectDatabase(url, { poolMax: 2, migrate: false });
    try {
      for (;;) {
        const step = await rollupPending(db, ROLLUP_STEP);
        log(`PostgreSQL copy: rolled up ${step.calls.toLocaleString("en-US")} calls (${since()})`);
        if (step.caughtUp) break;
      }
    } finally {
      await db.close();
    }
    const rollupSeconds = (performance.now() - tr) / 1000;

    pgc = await client(url);
    try {
      await sameRollups(sqlite, pgc);
      log("PostgreSQL copy: every rollup table equals the SQLite file's (rows, requests, cost)");
      const tv = performance.now();
      await pgc.query("VACUUM ANALYZE");
      const vacuumSeconds = (performance.now() - tv) / 1000;
      const bytes = Number((await pgc.query<{ n: string }>("SELECT pg_database_size(current_database()) AS n")).rows[0]!.n);
      const built: PgCopyBuild = { calls: total, copySeconds, indexSeconds, rollupSeconds, vacuumSeconds, bytes, created: new Date().toISOString() };
      writeFileSync(done, JSON.stringify(built));
      log(
        `PostgreSQL copy: done in ${since()} (COPY ${copySeconds.toFixed(0)} s, indexes ${indexSeconds.toFixed(0)} s, ` +
          `rollup ${rollupSeconds.toFixed(0)} s = ${Math.round(total / rollupSeconds).toLocaleString("en-US")} calls/s, VACUUM ANALYZE ${vacuumSeconds.toFixed(0)} s), ${(bytes / 1e9).toFixed(1)} GB`,
      );
    } finally {
      await pgc.end();
      sqlite.close();
    }
  } finally {
    await cluster?.stop();
  }
}

async function client(url: string): Promise<pg.Client> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  return c;
}

/** A value in COPY's text format: \N for NULL; backslash, tab and line breaks escaped. */
function copyText(v: unknown): string {
  if (v === null || v === undefined) return "\\N";
  if (typeof v !== "string") return String(v);
  return v.replace(/[\\\t\n\r]/g, (c) => (c === "\\" ? "\\\\" : c === "\t" ? "\\t" : c === "\n" ? "\\n" : "\\r"));
}

/**
 * Stream every call from SQLite into PostgreSQL, in id order, one COPY (its own transaction) per
 * COPY_ROWS calls, waiting for the socket to drain. Returns how many calls were copied.
 */
async function copyCalls(sqlite: Database.Database, pgc: pg.Client, progress: (n: number) => void): Promise<number> {
  const select = sqlite.prepare(`SELECT ${COLUMNS.map((c) => `"${c}"`).join(", ")} FROM calls ORDER BY id`).raw(true);
  const copySql = `COPY calls (${COLUMNS.map((c) => `"${c}"`).join(", ")}) FROM STDIN`;
  let n = 0;
  let stream: ReturnType<typeof copyFrom> | null = null;
  let chunk = "";
  const write = async (text: string) => {
    if (!stream!.write(text)) await new Promise((resolve) => stream!.once("drain", resolve));
  };
  const finish = async () => {
    if (chunk) await write(chunk);
    chunk = "";
    const s = stream!;
    stream = null;
    await new Promise<void>((resolve, reject) => {
      s.once("finish", resolve);
      s.once("error", reject);
      s.end();
    });
  };
  for (const row of select.iterate() as IterableIterator<unknown[]>) {
    if (!stream) stream = pgc.query(copyFrom(copySql));
    chunk += `${row.map(copyText).join("\t")}\n`;
    n++;
    if (chunk.length > 1 << 20) {
      await write(chunk);
      chunk = "";
    }
    if (n % COPY_ROWS === 0) {
      await finish();
      if (n % (10 * COPY_ROWS) === 0) progress(n);
    }
  }
  if (stream) await finish();
  progress(n);
  return n;
}

/** Throws unless every rollup table holds the same number of rows, requests and cost on both engines. */
async function sameRollups(sqlite: Database.Database, pgc: pg.Client): Promise<void> {
  const tables = [...new Set(ROLLUP_LEVELS.flatMap((l) => [l.everyDim, l.noKeyUser, l.twoDims, l.oneDim]).filter((t): t is string => t !== null))];
  const differ: string[] = [];
  for (const table of tables) {
    const q = `SELECT COUNT(*) AS n, SUM(requests) AS requests, SUM(cost_nano) AS cost FROM ${table}`;
    const a = sqlite.prepare(q).safeIntegers(true).get() as { n: bigint; requests: bigint; cost: bigint };
    const b = (await pgc.query<{ n: string; requests: string; cost: string }>(`SELECT COUNT(*)::text AS n, SUM(requests)::text AS requests, SUM(cost_nano)::text AS cost FROM ${table}`))
      .rows[0]!;
    const left = `${a.n} ${a.requests} ${a.cost}`;
    const right = `${b.n} ${b.requests} ${b.cost}`;
    if (left !== right) differ.push(`${table}: SQLite ${left}, PostgreSQL ${right}`);
  }
  const callsTable = getTableName(calls);
  const a = sqlite.prepare(`SELECT COUNT(*) AS n, SUM(cost_nano) AS cost FROM ${callsTable}`).safeIntegers(true).get() as { n: bigint; cost: bigint };
  const b = (await pgc.query<{ n: string; cost: string }>(`SELECT COUNT(*)::text AS n, SUM(cost_nano)::text AS cost FROM ${callsTable}`)).rows[0]!;
  if (`${a.n} ${a.cost}` !== `${b.n} ${b.cost}`) differ.push(`calls: SQLite ${a.n} ${a.cost}, PostgreSQL ${b.n} ${b.cost}`);
  if (differ.length > 0) throw new Error(`the PostgreSQL copy differs from the SQLite file:\n${differ.join("\n")}`);
}
