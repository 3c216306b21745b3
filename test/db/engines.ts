import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, inject } from "vitest";
import { connectDatabase } from "../../server/db/connect.ts";
import type { Db } from "../../server/db/database.ts";
import { createTestDatabase } from "../pg/throwaway-postgres.ts";

// Both engines behind one opener, for `describe.each(bothEngines())`: every test gets a fresh,
// migrated database of its own (a temp SQLite file, or a new database on the run's PostgreSQL
// server), opened through connectDatabase as the server opens DATABASE_URL, and closed and
// removed after the test.

export type EngineName = "sqlite" | "postgres";
type Cleanup = () => Promise<void>;

/** Call at the top level of a test file; registers the clean-up of what the openers open. */
export function bothEngines(): [EngineName, () => Promise<Db>][] {
  const cleanups: Cleanup[] = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });
  const sqlite = async () => {
    const dir = mkdtempSync(join(tmpdir(), "tollbooth-db-"));
    const db = await connectDatabase(join(dir, "t.db"), { poolMax: 1 });
    cleanups.push(async () => {
      await db.close();
      rmSync(dir, { recursive: true, force: true });
    });
    return db;
  };
  const postgres = async () => {
    const created = await createTestDatabase(inject("pgAdminUrl"), "stores");
    cleanups.push(() => created.drop());
    const db = await connectDatabase(created.url, { poolMax: 4 });
    cleanups.push(() => db.close());
    return db;
  };
  return [
    ["sqlite", sqlite],
    ["postgres", postgres],
  ];
}
