import { loadConfig, ConfigError } from "./config.ts";
import { startServer } from "./start.ts";

// The only file that reads process.env and installs signal handlers.
async function main() {
  let config;
  try {
    config = loadConfig(process.env);
  } catch (err) {
    if (err instanceof ConfigError) {
      console.error(err.message);
      process.exit(2);
    }
    throw err;
  }
  const server = await startServer(config);
  server.log.info(`tollbooth listening on ${server.url} (proxy: ${server.url}/v1, upstream: ${config.UPSTREAM_BASE_URL})`);

  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    server.log.info(`${signal}: draining in-flight calls (grace ${config.SHUTDOWN_GRACE_MS} ms)`);
    server.close().then(
      () => {
        server.log.info(`stopped; ${server.recorder.recorded} calls recorded this run`);
        process.exit(0);
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
