import { defineConfig } from "vitest/config";

// Suites that talk to the server through its HTTP API, pages and emails run twice: once on
// SQLite (with everything else) and once on PostgreSQL, where the harness (test/harness.ts) gives
// each server a fresh database on the run's throwaway PostgreSQL. The few tests of SQLite-only
// internals inside them say so and skip themselves there (ON_POSTGRES); suites that already
// cover both engines in one file (test/db, *-both-engines, *-pg) run once, and so do tests with
// no database at all.
const ON_BOTH_ENGINES = [
  "test/api/**",
  "test/usage/**",
  "test/pages/**",
  "test/reports/**",
  "test/requests/**",
  "test/prices/**",
  "test/alerts/**",
  "test/budgets/**",
  "test/job-runs/**",
  "test/keys/**",
  "test/sessions/**",
].map((dir) => `${dir}/*.test.{ts,tsx}`);
// /metrics reads spend, budgets and the rollup lag from the database; the rest of
// test/observability (logs, OpenTelemetry, SQLite's write lock) does not depend on the engine.
ON_BOTH_ENGINES.push("test/observability/metrics.test.ts");
/** In those folders, but run once: they pick their engines themselves, or use no database. */
const RUN_ONCE = [
  "**/*-both-engines.test.ts",
  "**/*-pg.test.ts",
  "test/usage/usage.property.test.ts",
  "test/usage/postgres/**",
  "test/budgets/multi-instance.test.ts",
  "test/sessions/two-instances.security.test.ts",
  "test/budgets/budget-period.test.ts",
  "test/budgets/slow-writer.test.ts",
];

export default defineConfig({
  test: {
    // Integration tests start real servers and SQLite files; 2 shared cores, so keep it modest.
    pool: "forks",
    maxWorkers: 2,
    testTimeout: 30_000,
    hookTimeout: 30_000,
    // One throwaway PostgreSQL server per run (each file makes its own database on it); the run
    // fails when it cannot start.
    globalSetup: ["test/pg/global-setup.ts"],
    projects: [
      { extends: true, test: { name: "sqlite", include: ["test/**/*.test.ts", "test/**/*.test.tsx"] } },
      {
        extends: true,
        test: {
          name: "postgres",
          include: ON_BOTH_ENGINES,
          exclude: RUN_ONCE,
          env: { TOLLBOOTH_TEST_ENGINE: "postgres" },
        },
      },
    ],
  },
});
