import pg from "pg";
import { afterAll, inject } from "vitest";
import { ignoreLostConnections } from "../../server/db/postgres.ts";
import { createTestDatabase } from "./throwaway-postgres.ts";

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
