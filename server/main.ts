import { loadConfigOrReport } from "./config.ts";
import { startServer } from "./start.ts";

// The only file that reads process.env and installs signal handlers.
async function main() {
  const config = loadConfigOrReport(process.env);
  if (!config) process.exit(2);
  const server = await startServer(config);
  server.log.info(`tollbooth listening on ${server.url} (proxy: ${server.url}/v1, upstream: ${config.UPSTREAM_BASE_URL})`);

  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    server.log.info(`${signal}: draining in-flight calls (grace ${config.SHUTDOWN_GRACE_MS} ms)`);
    server.close().then(
      (unsaved) => {
        server.log.info(`stopped; ${server.recorder.recorded} calls recorded this run`);
        // Non-zero so a supervisor notices: those calls are safe in the journal, not yet in the database.
        process.exit(unsaved === 0 ? 0 : 3);
      },
      (err) => {
        server.log.error(`shutdown failed: ${(err as Error).message}`);
        process.exit(1);
      },
    );
  };
  process.on("SIGTERM", () => stop("SIGTERM"));
  process.on("SIGINT", () => stop("SIGINT"));
}

void main();
