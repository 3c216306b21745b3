import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { loadConfig, type Config } from "../server/config.ts";
import { startServer, type RunningServer } from "../server/start.ts";
import type { Clock } from "../server/clock.ts";

export const TEST_ADMIN_TOKEN = "test-admin-token-0123456789";

export interface TestServer extends RunningServer {
  config: Config;
  dir: string;
  /** Fetch with the admin token set. */
  api(path: string, init?: RequestInit): Promise<Response>;
  /** Close the server and delete its temp folder. */
  stop(): Promise<void>;
}

/**
 * Start the real tollbooth server on port 0 with a fresh temporary SQLite file.
 * `env` overrides config variables exactly as a user would set them.
 */
export async function startTestServer(env: Record<string, string> = {}, clock?: Clock): Promise<TestServer> {
  const dir = mkdtempSync(join(tmpdir(), "tollbooth-test-"));
  const config = loadConfig({
    PORT: "0",
    HOST: "127.0.0.1",
    DATABASE_URL: join(dir, "tollbooth.db"),
    ADMIN_TOKEN: TEST_ADMIN_TOKEN,
    LOG_LEVEL: "error",
    RECORDER_FLUSH_MS: "10",
    CRON_ENABLED: "false", // jobs run only when a test runs them
    SHUTDOWN_DRAIN_MS: "0", // no client of a test server needs the drain window; stop at once

    UPSTREAM_BASE_URL: "http://127.0.0.1:9/v1", // discard port: unreachable unless a test sets it
    ...env,
  });
  const server = await startServer(config, clock);
  return {
    ...server,
    config,
    dir,
    api: (path, init = {}) =>
      fetch(server.url + path, {
        ...init,
        headers: { authorization: `Bearer ${server.adminToken}`, ...(init.headers as Record<string, string> | undefined) },
      }),
    async stop() {
      await server.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Wait until `predicate` holds (polling), e.g. for the recorder to flush. Fails after `ms`. */
export async function waitFor<T>(fn: () => T | undefined | null | false, ms = 5_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = fn();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`waitFor: condition not met within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 10));
  }
}
