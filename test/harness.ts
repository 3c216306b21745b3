import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { inject } from "vitest";
import { loadConfig, type Config } from "../server/config.ts";
import { startServer, type RunningServer } from "../server/start.ts";
import type { Clock } from "../server/clock.ts";
import { createTestDatabase } from "./pg/throwaway-postgres.ts";

export const TEST_ADMIN_TOKEN = "test-admin-token-0123456789";

/** Which database a test server runs on. */
export type TestEngine = "sqlite" | "postgres";

export interface TestServerOptions {
  /**
   * "postgres": a fresh database on the run's throwaway PostgreSQL (test/pg/global-setup.ts),
   * dropped by stop(). Default "sqlite": a temp file. An env DATABASE_URL wins over both.
   * For a suite over both engines: `describe.each(["sqlite", "postgres"] as const)` and pass it.
   */
  engine?: TestEngine;
}

/**
 * The engine a suite runs on when it names none: TOLLBOOTH_TEST_ENGINE, which vitest.config.ts's
 * "postgres" project sets to run the API, spend, pages, reports and requests suites a second
 * time on PostgreSQL; else SQLite.
 */
function defaultTestEngine(): TestEngine {
  const given = process.env.TOLLBOOTH_TEST_ENGINE;
  if (given === undefined || given === "") return "sqlite";
  if (given !== "sqlite" && given !== "postgres") throw new Error(`TOLLBOOTH_TEST_ENGINE=${given}: expected sqlite or postgres`);
  return given;
}

/** The suite runs on PostgreSQL (TOLLBOOTH_TEST_ENGINE): for the few tests of SQLite-only internals. */
export const ON_POSTGRES = defaultTestEngine() === "postgres";

export interface TestServer extends RunningServer {
  config: Config;
  engine: TestEngine;
  dir: string;
  /** Fetch with the admin token set. */
  api(path: string, init?: RequestInit): Promise<Response>;
  /** Close the server and delete its temp folder. */
  stop(): Promise<void>;
}

/**
 * Start the real tollbooth server on port 0 with a fresh temporary SQLite file (or PostgreSQL
 * database, `opts.engine`). `env` overrides config variables exactly as a user would set them.
 */
export async function startTestServer(env: Record<string, string> = {}, clock?: Clock, opts: TestServerOptions = {}): Promise<TestServer> {
  const dir = mkdtempSync(join(tmpdir(), "tollbooth-test-"));
  const engine = opts.engine ?? defaultTestEngine();
  const pg = engine === "postgres" && !env.DATABASE_URL ? await createTestDatabase(inject("pgAdminUrl"), "server") : null;
  const config = loadConfig({
    PORT: "0",
    HOST: "127.0.0.1",
    DATABASE_URL: pg?.url ?? join(dir, "tollbooth.db"),
    // On PostgreSQL nothing puts the journal and admin token beside a file: the temp folder holds them.
    ...(engine === "postgres" || /^postgres(ql)?:/.test(env.DATABASE_URL ?? "") ? { DATA_DIR: dir } : {}),
    ADMIN_TOKEN: TEST_ADMIN_TOKEN,
    LOG_LEVEL: "error",
    RECORDER_FLUSH_MS: "10",
    CRON_ENABLED: "false", // jobs run only when a test runs them
    SHUTDOWN_DRAIN_MS: "0", // no client of a test server needs the drain window; stop at once

    UPSTREAM_BASE_URL: "http://127.0.0.1:9/v1", // discard port: unreachable unless a test sets it
    ...env,
  });
  const server = await startServer(config, clock).catch(async (err: unknown) => {
    await pg?.drop();
    rmSync(dir, { recursive: true, force: true });
    throw err;
  });
  return {
    ...server,
    config,
    engine,
    dir,
    api: (path, init = {}) =>
      fetch(server.url + path, {
        ...init,
        headers: { authorization: `Bearer ${server.adminToken}`, ...(init.headers as Record<string, string> | undefined) },
      }),
    async stop() {
      await server.close();
      await pg?.drop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Wait until `predicate` holds (polling), e.g. for the recorder to flush. Fails after `ms`. */
export async function waitFor<T>(fn: () => T | undefined | null | false | Promise<T | undefined | null | false>, ms = 5_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    // Awaited: an async condition's promise is always truthy.
    const value = await fn();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`waitFor: condition not met within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 10));
  }
}
