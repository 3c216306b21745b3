import { sql } from "drizzle-orm";
import pg from "pg";
import { afterAll, beforeAll, inject } from "vitest";
import { connectDatabase } from "../../server/db/connect.ts";
import type { Db } from "../../server/db/database.ts";
import { ignoreLostConnections } from "../../server/db/postgres.ts";
import { createTestDatabase, startThrowawayPostgres, type ThrowawayPostgres } from "./throwaway-postgres.ts";

/**
 * A fresh database on the run's PostgreSQL server (test/pg/global-setup.ts) for this test file,
 * dropped after its last test. Call at the top level of a test file or in beforeAll.
 */
export async function testDatabaseUrl(prefix = "t"): Promise<string> {
  const db = await createTestDatabase(inject("pgAdminUrl"), prefix);
  afterAll(() => db.drop());
  return db.url;
}

/** Rows of one statement on its own short-lived connection (for checks from outside the server). */
export async function queryPostgres<T>(url: string, sql: string): Promise<T[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query(sql)).rows as T[];
  } finally {
    await client.end();
  }
}

/**
 * A plain node-postgres pool on `url`, for a test's statements from outside the server. Lost
 * connections are ignored: the database is dropped or the server stopped right after the test.
 */
export function testPool(url: string, max: number): pg.Pool {
  return ignoreLostConnections(new pg.Pool({ connectionString: url, max }));
}

/** A private PostgreSQL server with one migrated database on it: the tollbooth handle and a plain pool. */
export interface OwnPostgres {
  db: Db;
  pool: pg.Pool;
  url: string;
}

/**
 * For test files that need a server of their own, not the run's shared one: a rollup takes only
 * calls below the oldest transaction running anywhere on the server (pg_snapshot_xmin is
 * cluster-wide), so another file's open transaction would hold it back and race the assertions.
 * Starts the server in beforeAll, with the calls partition of `month` made (months are made
 * ahead of now only, and plain inserts need theirs); stops it after the file's last test.
 */
export function ownPostgres(opts: { prefix: string; month: number; poolMax: number; plainPoolMax: number }): OwnPostgres {
  const own = {} as OwnPostgres;
  let server: ThrowawayPostgres | undefined;
  beforeAll(async () => {
    server = await startThrowawayPostgres();
    own.url = (await createTestDatabase(server.adminUrl, opts.prefix)).url;
    own.db = await connectDatabase(own.url, { poolMax: opts.poolMax });
    await own.db.run(sql`SELECT tollbooth_ensure_calls_partitions(${opts.month}, 0)`);
    own.pool = testPool(own.url, opts.plainPoolMax);
  });
  afterAll(async () => {
    await own.pool?.end();
    await own.db?.close();
    await server?.stop();
  });
  return own;
}
