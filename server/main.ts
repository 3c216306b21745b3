import { loadConfigOrReport } from "./config.ts";
import { startServer, type RunningServer } from "./start.ts";
import { startupErrorLine } from "./startup-error.ts";

// The only file that reads process.env and installs signal handlers.
async function main() {
  const config = loadConfigOrReport(process.env);
  if (!config) process.exit(2);

  // Handlers first: a signal that lands while starting (or right after the "listening" line,
  // which a supervisor may act on at once) must drain, not kill the process mid-write.
  let server: RunningServer | null = null;
  let requested: string | null = null;
  let stopping = false;
  const stop = (signal: string) => {
    requested ??= signal;
    if (!server || stopping) return;
    stopping = true;
    const running = server;
    running.log.info(`${signal}: draining in-flight calls (grace ${config.SHUTDOWN_GRACE_MS} ms)`);
    running.close().then(
      (unsaved) => {
        running.log.info(`stopped; ${running.recorder.recorded} calls recorded this run`);
        // Non-zero so a supervisor notices: those calls are safe in the journal, not yet in the database.
        process.exit(unsaved === 0 ? 0 : 3);
      },
      (err) => {
        running.log.error(`shutdown failed: ${(err as Error).message}`);
        process.exit(1);
      },
    );
  };
  process.on("SIGTERM", () => stop("SIGTERM"));
  process.on("SIGINT", () => stop("SIGINT"));

  try {
    server = await startServer(config);
  } catch (err) {
    const line = startupErrorLine(err, config);
    if (line === null) throw err;
    console.error(line);
    process.exit(2);
  }
  server.log.info(`tollbooth listening on ${server.url} (proxy: ${server.url}/v1, upstream: ${config.UPSTREAM_BASE_URL})`);
  if (requested) stop(requested);
}

void main();
