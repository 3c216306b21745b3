import { afterAll, inject } from "vitest";
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
