import type { TestProject } from "vitest/node";
import { startThrowawayPostgres } from "./throwaway-postgres.ts";

// vitest globalSetup: one throwaway PostgreSQL server for the whole run, shared by the test files
// (each creates its own database on it, test/pg/database.ts). One initdb per run instead of one
// per file: ~0.7 s once. If the server cannot start, this throws and the whole run fails: a suite
// that silently skipped its PostgreSQL half would report green on a machine that tested nothing.
// TOLLBOOTH_TEST_PG_URL points the run at an existing server instead (a superuser's URL).

declare module "vitest" {
  interface ProvidedContext {
    /** A superuser URL of the run's PostgreSQL server (its maintenance database). */
    pgAdminUrl: string;
  }
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const existing = process.env.TOLLBOOTH_TEST_PG_URL;
  if (existing) {
    project.provide("pgAdminUrl", existing);
    return async () => {};
  }
  const server = await startThrowawayPostgres();
  project.provide("pgAdminUrl", server.adminUrl);
  return () => server.stop();
}
