import { drizzle, type NodePgDatabase } from "drizzle-orm/node-postgres";
import { migrate } from "drizzle-orm/node-postgres/migrator";
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import pg from "pg";
import { maskDatabaseUrl } from "./engine.ts";
import * as schema from "./schema-pg.ts";
import { StartupError } from "../startup-error.ts";

// Opening PostgreSQL: a bounded pool, the migrations of migrations-pg/ applied once however many
// instances start together, and the coming months' partitions of calls made sure of.

export type PgDb = NodePgDatabase<typeof schema> & { $client: pg.Pool };

const MIGRATIONS_DIR = resolve(dirname(fileURLToPath(import.meta.url)), "../../migrations-pg");
/** Session advisory lock key held while migrating (any constant other code does not use). */
const MIGRATION_LOCK = 7_316_000_001;
/** Months of calls partitions created ahead of now at every start (the jobs keep it up). */
const MONTHS_AHEAD = 3;

/**
 * The database could not be reached: the message names DATABASE_URL, its password masked. A
 * StartupError, so a server that cannot reach it at start exits with that one line and code 2.
 */
export class PostgresUnavailableError extends StartupError {}

/**
 * Let `pool` lose connections without crashing the process. An idle connection the server drops
 * (restart, failover, a database dropped, or `pool.end()`, which resolves before its sockets
 * close) must not crash the process; the next checkout opens a new one. The same for a
 * connection that is checked out (the pool listens only to idle ones): a connection lost between
 * two statements of a transaction must fail that transaction's next statement, not throw an
 * unhandled 'error' event that ends the thread.
 */
export function ignoreLostConnections(pool: pg.Pool): pg.Pool {
  pool.on("error", () => {});
  pool.on("connect", (client) => client.on("error", () => {}));
  return pool;
}

// int8 and numeric come back from node-postgres as strings (they may not fit a JS number). Our
// bigints are epoch ms, nano-USD and sums of them, read as numbers as SQLite's integers are; SUM
// over bigint is numeric. Parsed here into numbers, and an integer past 2^53 throws instead of
// being rounded: a wrong total must never be shown as a right one.
const INT8 = 20;
const NUMERIC = 1700;
function exactNumber(text: string): number {
  const n = Number(text);
  if (/^-?\d+$/.test(text) && !Number.isSafeInteger(n)) throw new RangeError(`integer ${text} from PostgreSQL is beyond 2^53 and cannot be read exactly`);
  return n;
}
const types: pg.CustomTypesConfig = {
  getTypeParser: ((oid: number, format?: "text" | "binary") =>
    oid === INT8 || oid === NUMERIC ? exactNumber : pg.types.getTypeParser(oid, format)) as pg.CustomTypesConfig["getTypeParser"],
};
// Drizzle's node-postgres driver passes type parsers of its own with every query it sends, and
// those fall back to pg's process-wide registry, not to the pool's `types`: without this, every
// builder query (db.orm) would read bigints as strings. tollbooth is the only pg user in its
// process, so registering the same parsers process-wide changes nothing else.
pg.types.setTypeParser(INT8, exactNumber);
pg.types.setTypeParser(NUMERIC, exactNumber);

export interface OpenPostgresOptions {
  /** Most connections this process holds (PG_POOL_MAX). */
  poolMax: number;
  /** false: no migrations, no partitions (a reader that must not write). */
  migrate?: boolean;
  /** ms to wait for a connection before giving up (start-up and every checkout). */
  connectTimeoutMs?: number;
  now?: () => number;
}

export interface OpenedPostgres {
  db: PgDb;
  /** Migrations this call applied (0 when another instance had applied them all). */
  applied: number;
}

async function countApplied(client: pg.PoolClient): Promise<number> {
  const exists = await client.query<{ t: string | null }>("SELECT to_regclass('drizzle.__drizzle_migrations')::text AS t");
  if (!exists.rows[0]?.t) return 0;
  const rows = await client.query<{ n: number }>("SELECT COUNT(*) AS n FROM drizzle.__drizzle_migrations");
  return rows.rows[0]!.n;
}

/**
 * Open DATABASE_URL's PostgreSQL. Migrates under a session advisory lock: instances starting at
 * once queue on it, the first applies what is pending and the others then find nothing to do
 * (drizzle's migrator alone would let each of them try the same migrations). Throws
 * PostgresUnavailableError when the database cannot be reached.
 */
export async function openPostgres(url: string, opts: OpenPostgresOptions): Promise<OpenedPostgres> {
  const pool = new pg.Pool({
    connectionString: url,
    max: opts.poolMax,
    connectionTimeoutMillis: opts.connectTimeoutMs ?? 10_000,
    application_name: "tollbooth",
    types,
  });
  ignoreLostConnections(pool);
  let client: pg.PoolClient;
  try {
    client = await pool.connect();
  } catch (err) {
    await pool.end().catch(() => {});
    const e = err as NodeJS.ErrnoException;
    const reason = [e.code, e.message].filter(Boolean).join(" ") || String(err);
    throw new PostgresUnavailableError(`cannot connect to PostgreSQL at DATABASE_URL=${maskDatabaseUrl(url)}: ${reason}`);
  }
  let applied = 0;
  try {
    if (opts.migrate !== false) {
      await client.query("SELECT pg_advisory_lock($1)", [MIGRATION_LOCK]);
      try {
        const before = await countApplied(client);
        await migrate(drizzle({ client }), { migrationsFolder: MIGRATIONS_DIR });
        applied = (await countApplied(client)) - before;
        await client.query("SELECT tollbooth_ensure_calls_partitions($1, $2)", [(opts.now ?? Date.now)(), MONTHS_AHEAD]);
      } finally {
        await client.query("SELECT pg_advisory_unlock($1)", [MIGRATION_LOCK]);
      }
    }
  } catch (err) {
    client.release(true);
    await pool.end().catch(() => {});
    throw err;
  }
  client.release();
  return { db: drizzle({ client: pool, schema }) as PgDb, applied };
}
