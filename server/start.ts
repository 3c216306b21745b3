import type { AddressInfo } from "node:net";
import { dirname, join, resolve } from "node:path";
import { mkdirSync } from "node:fs";
import type { Config } from "./config.ts";
import { openDatabase, databasePath, type Db } from "./db/open.ts";
import { Recorder } from "./recorder/recorder.ts";
import { createApp } from "./app.ts";
import { createHttpServer } from "./http-server.ts";
import { applyRequestTimeouts } from "./http-timeouts.ts";
import { createProxyHandler } from "./proxy/proxy-handler.ts";
import { systemClock, type Clock } from "./clock.ts";
import { createLogger, type Logger } from "./log.ts";
import { resolveAdminToken } from "./admin-token.ts";
import { createUpstreamAgent } from "./proxy/upstream.ts";
import { PriceBook } from "./spend/price-book.ts";
import { startScheduler } from "../jobs/scheduler.ts";

export interface RunningServer {
  url: string;
  port: number;
  db: Db;
  recorder: Recorder;
  adminToken: string;
  log: Logger;
  /** Stop accepting, let in-flight calls finish within the grace period, flush, close the db. */
  close(): Promise<void>;
}

/** Build and listen. Used by main.ts and by integration tests (port 0, temp database). */
export async function startServer(config: Config, clock: Clock = systemClock): Promise<RunningServer> {
  const log = createLogger(config.LOG_LEVEL);
  const dbPath = databasePath(config.DATABASE_URL);
  const dataDir = config.DATA_DIR ?? (dbPath === ":memory:" ? resolve("data") : dirname(resolve(dbPath)));
  mkdirSync(dataDir, { recursive: true });
  const db = openDatabase(config.DATABASE_URL);
  const { token: adminToken, generated } = resolveAdminToken(config.ADMIN_TOKEN, dataDir);

  const priceBook = new PriceBook(db, "manual");
  const recorder = new Recorder(db, {
    batchSize: config.RECORDER_BATCH_SIZE,
    flushMs: config.RECORDER_FLUSH_MS,
    spillPath: join(dataDir, "recorder-spill.jsonl"),
    log,
    priceCall: (call) => priceBook.costOf(call),
    beforeBatch: () => priceBook.refresh(),
  });
  recorder.start();
  const scheduler = config.CRON_ENABLED ? startScheduler({ db, config, clock, log }) : { stop: async () => {} };

  const agent = createUpstreamAgent(config.UPSTREAM_MAX_CONNECTIONS);
  const app = createApp({ config, db, recorder, clock, log, adminToken });
  const server = createHttpServer(app, createProxyHandler({ config, recorder, clock, log, agent }));
  applyRequestTimeouts(server, config);
  await new Promise<void>((listening) => server.listen(config.PORT, config.HOST, listening));
  const port = (server.address() as AddressInfo).port;
  const url = `http://${config.HOST.includes(":") ? `[${config.HOST}]` : config.HOST}:${port}`;
  if (generated) log.info(`generated admin token (kept in ${join(dataDir, "admin-token")}): ${adminToken}`);

  let closing: Promise<void> | null = null;
  const close = () =>
    (closing ??= (async () => {
      await new Promise<void>((done) => {
        const timer = setTimeout(() => {
          log.warn(`shutdown: grace period of ${config.SHUTDOWN_GRACE_MS} ms over, closing open connections`);
          server.closeAllConnections();
        }, config.SHUTDOWN_GRACE_MS);
        timer.unref();
        server.close(() => {
          clearTimeout(timer);
          done();
        });
        // Idle keep-alive sockets would hold close() open until they time out.
        server.closeIdleConnections();
      });
      await scheduler.stop();
      await recorder.close(config.SHUTDOWN_GRACE_MS);
      await agent.close();
      db.$client.close();
    })());

  return { url, port, db, recorder, adminToken, log, close };
}
