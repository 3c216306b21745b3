import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Clock } from "../server/clock.ts";
import { loadConfig } from "../server/config.ts";
import { startServer, type RunningServer } from "../server/start.ts";

/**
 * The real server on a cached benchmark data set (bench/spend-data.ts), for the spend and page
 * benchmarks: loopback, a fresh admin token and data folder, quiet logs, no upstream. `extra` is
 * each benchmark's own settings. close() stops it and removes the data folder.
 */
export async function startOnDataSet(dbPath: string, name: string, extra: Record<string, string>, clock?: Clock): Promise<RunningServer> {
  const dataDir = mkdtempSync(join(tmpdir(), `tollbooth-bench-${name}-`));
  const server = await startServer(
    loadConfig({
      PORT: "0",
      HOST: "127.0.0.1",
      DATABASE_URL: dbPath,
      DATA_DIR: dataDir,
      ADMIN_TOKEN: `bench-${Math.random().toString(36).slice(2)}-${Date.now()}`,
      LOG_LEVEL: "error",
      UPSTREAM_BASE_URL: "http://127.0.0.1:9/v1",
      ...extra,
    }),
    clock,
  );
  return {
    ...server,
    close: async () => {
      const unsaved = await server.close();
      rmSync(dataDir, { recursive: true, force: true });
      return unsaved;
    },
  };
}
