import type { AddressInfo } from "node:net";
import { dirname, join, resolve } from "node:path";
import { mkdirSync } from "node:fs";
import type { Config } from "./config.ts";
import type { Db } from "./db/database.ts";
import { connectDatabase } from "./db/connect.ts";
import { connectionBudget } from "./db/connection-budget.ts";
import { engineFor } from "./db/engine.ts";
import { checkServingEngine } from "./db/serving-engine.ts";
import { Journal } from "./recorder/journal.ts";
import { JournaledRecorder } from "./recorder/journaled-recorder.ts";
import { createHttpServer } from "./http-server.ts";
import { Draining } from "./draining.ts";
import { applyRequestTimeouts } from "./http-timeouts.ts";
import { createProxyHandler } from "./proxy/proxy-handler.ts";
import { systemClock, type Clock } from "./clock.ts";
import { createLogger, type Logger } from "./log.ts";
import { resolveAdminToken } from "./admin-token.ts";
import { createUpstreamAgent } from "./proxy/upstream.ts";
import { sendHealth } from "./health.ts";
import { startWriter, type WriterThread } from "./workers/writer.ts";
import { ReaderPool } from "./workers/reader-pool.ts";
import { createBridge } from "./workers/http-bridge.ts";
import { shareClock } from "./workers/shared-clock.ts";
import { CallMetrics } from "./observability/call-metrics.ts";
import { CallTelemetry } from "./observability/call-telemetry.ts";
import { createMetricsRoute } from "./observability/metrics-route.ts";
import { startTracing } from "./observability/tracing.ts";
import { warmTokenizer } from "./proxy/token-counter.ts";
import { SpendGate } from "./budgets/spend-gate.ts";

export interface RunningServer {
  url: string;
  port: number;
  /**
   * A connection of the caller's own, for tests, tools and the demo's seeding. Nothing that
   * serves a request uses it: /v1 runs on this thread and never touches the database.
   */
  db: Db;
  recorder: JournaledRecorder;
  writer: WriterThread;
  adminToken: string;
  log: Logger;
  /**
   * Stop accepting, let in-flight calls finish within the grace period, commit what the
   * journal holds. Resolves with the number of calls left uncommitted (0 when all is saved; the
   * rest stay in the journal folder and are recorded at the next start).
   */
  close(): Promise<number>;
  journalDir: string;
}

/** Build and listen. Used by main.ts and by integration tests (port 0, temp database). */
export async function startServer(config: Config, clock: Clock = systemClock): Promise<RunningServer> {
  const log = createLogger(config.LOG_LEVEL);
  await checkServingEngine(config);
  const engine = engineFor(config.DATABASE_URL);
  // By default the admin token and the journal sit beside the SQLite file; on PostgreSQL (or an
  // in-memory SQLite) in ./data, as beside the default ./data/tollbooth.db.
  const dataDir = config.DATA_DIR ?? (engine.kind === "postgres" || engine.path === ":memory:" ? resolve("data") : dirname(resolve(engine.path)));
  mkdirSync(dataDir, { recursive: true });
  const { token: adminToken, generated } = resolveAdminToken(config.ADMIN_TOKEN, dataDir);
  const clockShare = shareClock(clock);

  // The journal first: the writer replays what earlier processes left in it before anything new.
  const journalDir = config.JOURNAL_DIR ?? join(dataDir, "journal");
  const journal = new Journal({ dir: journalDir, fsync: config.JOURNAL_FSYNC, segmentBytes: config.JOURNAL_SEGMENT_BYTES });
  let recorder: JournaledRecorder | null = null;
  // Filled by the writer before it reports ready: keys, hard budgets and prices (never from SQLite here).
  const spend = new SpendGate(config, () => clock.now());
  const writer = await startWriter(
    { config, journalDir, liveOwner: journal.owner, clockBuffer: clockShare.buffer, log, onSpend: (update) => spend.onUpdate(update) },
    (n) => recorder?.committed(n),
  ).catch(
    async (err: Error) => {
      clockShare.stop();
      await journal.close();
      throw err;
    },
  );
  // Rows go to the writer thread once per flush interval, and it writes each delivery at once.
  const calls = new JournaledRecorder(journal, writer, { batchSize: config.RECORDER_BATCH_SIZE, postMs: config.RECORDER_FLUSH_MS });
  recorder = calls;
  spend.connect(writer, () => calls.recorded);
  // Readers open the file only after the writer has migrated it.
  const readers = await ReaderPool.start({ config, adminToken, clockBuffer: clockShare.buffer }, config.READER_THREADS, log);
  const db = await connectDatabase(config.DATABASE_URL, { migrate: false, poolMax: engine.kind === "postgres" ? connectionBudget(config).serving : 1 });

  const agent = createUpstreamAgent(config.UPSTREAM_MAX_CONNECTIONS);
  const draining = new Draining();
  const metrics = config.METRICS_ENABLED
    ? new CallMetrics(config.METRICS_MAX_LABEL_VALUES, {
        get queued() {
          return journal.uncommitted;
        },
        get inFlight() {
          return calls.openCalls;
        },
        // Rows whose journal append failed live only in the writer's memory until they commit.
        get lost() {
          return writer.failure ? journal.unjournaled : 0;
        },
      })
    : null;
  const tracing = await startTracing(config);
  const telemetry = metrics || tracing || config.LOG_LEVEL === "debug" ? new CallTelemetry(metrics, tracing, log) : null;
  const server = createHttpServer(
    {
      proxy: createProxyHandler({ config, recorder: calls, clock, log, agent, shutdown: draining, telemetry, spend }),
      health: (_req, res) => sendHealth(res, writer, journal),
      metrics: metrics && createMetricsRoute({ metrics, writer, tokens: config.METRICS_TOKEN ? [adminToken, config.METRICS_TOKEN] : [adminToken] }),
      bridge: createBridge(readers, clockShare, log),
    },
    draining,
  );
  applyRequestTimeouts(server, config);
  // A listen error (port in use, address not ours) rejects, so main.ts can say it in one line.
  await new Promise<void>((listening, failed) => {
    server.once("error", failed);
    server.listen(config.PORT, config.HOST, () => {
      server.off("error", failed);
      listening();
    });
  });
  const port = (server.address() as AddressInfo).port;
  const url = `http://${config.HOST.includes(":") ? `[${config.HOST}]` : config.HOST}:${port}`;
  if (generated) log.info(`generated admin token (kept in ${join(dataDir, "admin-token")}): ${adminToken}`);

  let closing: Promise<number> | null = null;
  const close = () =>
    (closing ??= (async () => {
      // Calls cut at the end of the grace period are recorded with estimated tokens: have the
      // tokenizer ready by then rather than starting it when they end.
      warmTokenizer();
      await draining.close(server, { drainMs: config.SHUTDOWN_DRAIN_MS, graceMs: config.SHUTDOWN_GRACE_MS, log });
      const deadline = Date.now() + config.SHUTDOWN_GRACE_MS;
      while (calls.openCalls > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
      await calls.flushed();
      spend.stop();
      await writer.close(Math.max(1_000, deadline - Date.now()));
      await readers.close();
      await agent.close();
      // The last spans and metrics go out before the process ends.
      await tracing?.shutdown().catch((err: Error) => log.warn(`telemetry: final export failed: ${err.message}`));
      clockShare.stop();
      await db.close();
      const left = calls.pending;
      await journal.close();
      if (left > 0) log.error(`shutdown: ${left} call(s) are not in the database yet; they are kept in ${journalDir} and recorded at the next start`);
      return left;
    })());

  return { url, port, db, recorder: calls, writer, adminToken, log, close, journalDir };
}
