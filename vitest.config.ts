import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts", "test/**/*.test.tsx"],
    // Integration tests start real servers and SQLite files; 2 shared cores, so keep it modest.
    pool: "forks",
    maxWorkers: 2,
    testTimeout: 30_000,
    hookTimeout: 30_000,
    // One throwaway PostgreSQL server per run (each file makes its own database on it); the run
    // fails when it cannot start.
    globalSetup: ["test/pg/global-setup.ts"],
  },
});
