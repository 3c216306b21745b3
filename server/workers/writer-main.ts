import { parentPort, workerData } from "node:worker_threads";
import type { Clock } from "../clock.ts";
import type { Config } from "../config.ts";
import { sql } from "drizzle-orm";
import type { Db } from "../db/database.ts";
import { connectDatabase } from "../db/connect.ts";
import { connectionBudget } from "../db/connection-budget.ts";
import { engineFor, maskDatabaseUrl } from "../db/engine.ts";
import { openDatabase } from "../db/open.ts";
import { StartupError } from "../startup-error.ts";
import { createLogger, type Logger } from "../log.ts";
import { recoverableOwners, removeOwner, replayJournal } from "../recorder/journal-replay.ts";
import { segmentPath } from "../recorder/journal.ts";
import { Recorder } from "../recorder/recorder.ts";
import { PriceBook } from "../prices/price-book.ts";
import { readBudgets, readRollupLagSeconds, readSpend } from "../observability/database-figures.ts";
import { WriterMetrics, type JobRunReport } from "../observability/writer-metrics.ts";
import { SpendWriter } from "../budgets/spend-writer.ts";
import { clockFrom } from "./shared-clock.ts";
import { lowerThreadPriority } from "./thread-priority.ts";
import type { FromWriter, ToWriter, WriterData } from "./writer-messages.ts";

// The writer thread: the one place that writes calls. It owns the recorder (batched inserts of
// the rows the serving thread journaled), the cron jobs, the replay of journals left by a crash,
// and a small write probe that tells /healthz whether the database accepts writes. Whatever it
// blocks on (a long rollup, another process holding the write lock, a full disk) never stalls
// the thread that serves /v1. The thread's entry file is jobs/writer-thread.ts, which passes in
// the cron jobs: jobs/ depends on server/, never the other way round.
//
// On SQLite everything here shares the thread's one connection. On PostgreSQL the recorder (with
// the journal replay, the write probe and the price check before each batch) has a pool of its
// own, apart from the pool the jobs, metrics reads and spend control use, so a slow rollup or a
// scrape that waits for a connection never holds up the call rows (connection-budget.ts).

/** Starts the cron jobs against the writer's connection (jobs/scheduler.ts's startScheduler). */
export type StartJobs = (deps: {
  db: () => Db;
  config: Config;
  clock: Clock;
  log: Logger;
  /** Told of each finished run, for the writer's job metrics. */
  onRun: (run: JobRunReport) => void;
}) => { stop(): Promise<void> };


export async function runWriterThread(startJobs: StartJobs): Promise<void> {
  const data = workerData as WriterData;

  // Below the serving thread (/v1 first), above the readers: committing calls matters more than a page.
  lowerThreadPriority(5);
  const port = parentPort!;
  const send = (m: FromWriter) => port.postMessage(m);
  const log = createLogger(data.config.LOG_LEVEL);
  const clock = clockFrom(data.clockBuffer);
  const PROBE_MS = 1_000;
  const REPLAY_SCAN_MS = 5_000;

  const url = data.config.DATABASE_URL;
  const budget = engineFor(url).kind === "postgres" ? connectionBudget(data.config) : null;
  /** Jobs, metrics reads and spend control. */
  let db: Db;
  /** The recorder's: call rows, journal replay, the write probe (the same connection on SQLite). */
  let recorderDb: Db;
  try {
    // SQLite is migrated here, before any reader opens the file; PostgreSQL already was, by the
    // serving thread's start-up check (serving-engine.ts), under its lock.
    db = await connectDatabase(url, { poolMax: budget?.writerJobs ?? 1, migrate: budget === null });
    recorderDb = budget === null ? db : await connectDatabase(url, { poolMax: budget.recorder, migrate: false });
  } catch (err) {
    const message = err instanceof StartupError ? err.message : `cannot open the database ${maskDatabaseUrl(url)}: ${(err as Error).message}`;
    send({ type: "fatal", message });
    process.exit(1);
  }

  /**
   * After any failed write, on SQLite: reconnect. A file that was read-only when opened stays
   * read-only for the life of the connection (SQLite falls back to read-only silently), so fixing
   * the permission or freeing disk space then heals the writer without a restart. On PostgreSQL
   * nothing to do: the pools drop a broken connection and open a new one at the next checkout.
   * Returns the recorder's new handle, or null when it keeps the one it has.
   */
  function reopen(): Db | null {
    if (budget !== null) return null;
    const fresh = openDatabase(url, { migrate: false });
    void db.close().catch(() => {
      // already closed or busy: the old handle is dropped either way
    });
    db = fresh;
    recorderDb = fresh;
    prices = new PriceBook(recorderDb);
    // The recorder's statements belong to the old connection (when the probe reconnected first).
    liveRecorder.useDatabase(recorderDb);
    return recorderDb;
  }

  // The recorders' catalog, read through their connection: a price check must not queue behind a job.
  let prices = new PriceBook(recorderDb);
  const metrics = new WriterMetrics({
    maxLabelValues: data.config.METRICS_MAX_LABEL_VALUES,
    recorder: () => liveRecorder,
    rollupLagSeconds: () => readRollupLagSeconds(db, clock.now()),
    spend: () => readSpend(db, clock.now(), data.config.REPORT_TZ),
    budgets: () => readBudgets(db, clock.now()),
  });
  const recorderOptions = (onCommitted?: (n: number) => void) => ({
    batchSize: data.config.RECORDER_BATCH_SIZE,
    flushMs: data.config.RECORDER_FLUSH_MS,
    log,
    priceCall: (call: Parameters<PriceBook["costOf"]>[0]) => prices.costOf(call),
    beforeBatch: () => prices.refresh(),
    onCommitted,
    onWriteFailure: () => reopen(),
  });
  const liveRecorder = new Recorder(recorderDb, {
    ...recorderOptions((n) => send({ type: "committed", n })),
    // The live rows' cost counts once their batch commits (a failed attempt is priced again).
    onBatch: (_rows, ms, priced) => metrics.batchCommitted(ms, priced),
    // Past this many rows in memory, rows wait in the serving thread's journal, which holds them already.
    spill: { maxRows: data.config.RECORDER_MEMORY_MAX_ROWS, segmentPath: (n) => segmentPath(data.journalDir, data.liveOwner, n) },
  });
  liveRecorder.start();

  let replayPending = 0;
  let replaying = false;
  /** Replay journals of dead processes; their files go only once their rows committed. */
  async function replayJournals(): Promise<void> {
    if (replaying) return; // a scan is still writing: the next tick looks again
    replaying = true;
    try {
      await replayDeadOwners();
    } finally {
      replaying = false;
    }
  }
  async function replayDeadOwners(): Promise<void> {
    for (const [owner, segments] of recoverableOwners(data.journalDir, data.liveOwner)) {
      const replayer = new Recorder(recorderDb, recorderOptions());
      // Read and written a memory's worth at a time: a journal left by a long outage can be large.
      const replayed = await replayJournal(segments, data.config.RECORDER_MEMORY_MAX_ROWS, async (records) => {
        replayPending = records.length;
        for (const r of records) replayer.enqueue(r);
        return replayer.flush(true);
      });
      if (replayed === null) return; // kept on disk; the next scan tries again
      removeOwner(data.journalDir, owner, segments);
      metrics.replayedRows(replayed.rows);
      replayPending = 0;
      if (replayed.rows > 0) log.info(`recorder: replayed ${replayed.rows} call rows from an earlier process's journal (${replayed.interrupted} interrupted)`);
    }
  }

  let lastProbe = { writable: true, error: null as string | null };
  async function probe(): Promise<void> {
    try {
      // The current value named with its table: unqualified, PostgreSQL finds it ambiguous with excluded's.
      await recorderDb.run(sql`INSERT INTO job_state(name, value) VALUES ('healthz', 0) ON CONFLICT(name) DO UPDATE SET value = job_state.value + 1`);
      lastProbe = { writable: true, error: null };
    } catch (err) {
      lastProbe = { writable: false, error: (err as Error).message };
      try {
        reopen();
      } catch {
        // still unopenable; the next probe retries
      }
    }
    const error = liveRecorder.lastError ?? lastProbe.error;
    const recorder = {
      memoryRows: liveRecorder.pending,
      memoryPeakRows: liveRecorder.peakPending,
      memoryMaxRows: data.config.RECORDER_MEMORY_MAX_ROWS,
      journalOnlyRows: liveRecorder.journalOnly,
    };
    send({ type: "health", health: { writable: error === null, error, replayPending, recorder, at: Date.now() } });
  }

  await replayJournals();
  const replayTimer = setInterval(() => void replayJournals(), REPLAY_SCAN_MS);
  const probeTimer = setInterval(() => void probe(), PROBE_MS);
  let scheduler: ReturnType<StartJobs> | null = null;
  try {
    scheduler = data.config.CRON_ENABLED ? startJobs({ db: () => db, config: data.config, clock, log, onRun: (run) => metrics.jobRan(run) }) : null;
  } catch (err) {
    send({ type: "fatal", message: (err as Error).message });
    process.exit(1);
  }
  // Keys, hard budgets and prices reach the serving thread before it listens (then on change).
  const spend = new SpendWriter(() => db, data.liveOwner, clock, (update) => send({ type: "spend", update }), log);
  await spend.start();
  await probe();
  send({ type: "ready" });

  port.on("message", async (m: ToWriter) => {
    if (m.type === "rows") {
      const { rows, places } = m;
      for (let i = 0; i < rows.length; i++) liveRecorder.enqueue(rows[i]!, places[2 * i]!, places[2 * i + 1]!);
      // The serving thread sends rows once per flush interval: write them now rather than on the
      // recorder's next tick (a flush already running takes them at its end or its next tick).
      void liveRecorder.flush();
    } else if (m.type === "flush") {
      send({ type: "flushed", id: m.id, ok: await liveRecorder.flush(true) });
    } else if (m.type === "metrics") {
      send({ type: "metrics", id: m.id, text: await metrics.text().catch((err: Error) => `# writer metrics failed: ${err.message}\n`) });
    } else if (m.type === "spend") {
      void spend.report(m.report);
    } else if (m.type === "close") {
      spend.stop();
      clearInterval(replayTimer);
      clearInterval(probeTimer);
      await scheduler?.stop();
      const unsaved = await liveRecorder.close(m.graceMs);
      for (const handle of new Set([db, recorderDb])) {
        await handle.close().catch(() => {
          // nothing left to save through it
        });
      }
      send({ type: "closed", unsaved });
    }
  });
}
