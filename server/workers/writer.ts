import type { Worker } from "node:worker_threads";
import type { Config } from "../config.ts";
import { firstMessage, spawnWorker } from "./spawn.ts";
import type { FromWriter, ToWriter, WriterData, WriterHealth } from "./writer-messages.ts";
import type { CallRecord } from "../recorder/recorder.ts";
import type { Logger } from "../log.ts";
import type { SpendReport, SpendUpdate } from "../budgets/spend-messages.ts";

// A file URL, not an import: the entry (writer-main.ts plus the cron jobs) is in jobs/, which
// depends on server/; server/ never loads job code into its own module graph.
const WRITER_ENTRY = new URL("../../jobs/writer-thread.ts", import.meta.url);

/** The serving thread's handle on the writer thread (writer-main.ts). */
export interface WriterThread {
  /** Rows to commit, with where the journal holds each (JournaledRecorder's RowSink). */
  post(rows: CallRecord[], places: number[]): void;
  /** Spend control: lease renewals and key use (answered through startWriter's onSpend). */
  postSpend(report: SpendReport): void;
  /** Resolves once every row posted so far is committed (false: a write failed, rows kept). */
  flush(): Promise<boolean>;
  /** Stop jobs, write what is queued (retrying up to graceMs); resolves with the rows left unsaved. */
  close(graceMs: number): Promise<number>;
  /**
   * The writer's Prometheus text, or null if it did not answer within `timeoutMs` (busy in a long
   * transaction, or stopped): a scrape must not hang on it.
   */
  metrics(timeoutMs: number): Promise<string | null>;
  /** The latest health report, null before the first. */
  readonly health: WriterHealth | null;
  /** Set when the thread died: nothing more will be committed by it. */
  readonly failure: string | null;
}

export async function startWriter(
  opts: { config: Config; journalDir: string; liveOwner: string; clockBuffer: SharedArrayBuffer | null; log: Logger; onSpend?: (update: SpendUpdate) => void },
  onCommitted: (n: number) => void,
): Promise<WriterThread> {
  const data: WriterData = { config: opts.config, journalDir: opts.journalDir, liveOwner: opts.liveOwner, clockBuffer: opts.clockBuffer };
  const worker: Worker = spawnWorker(WRITER_ENTRY, data, "tollbooth-writer");
  let health: WriterHealth | null = null;
  let failure: string | null = null;
  let nextFlush = 0;
  const flushes = new Map<number, (ok: boolean) => void>();
  let nextMetrics = 0;
  const metricsAsked = new Map<number, (text: string | null) => void>();
  let closed: ((unsaved: number) => void) | null = null;

  worker.on("message", (m: FromWriter) => {
    if (m.type === "committed") onCommitted(m.n);
    else if (m.type === "health") health = m.health;
    else if (m.type === "flushed") {
      flushes.get(m.id)?.(m.ok);
      flushes.delete(m.id);
    } else if (m.type === "metrics") {
      metricsAsked.get(m.id)?.(m.text);
      metricsAsked.delete(m.id);
    } else if (m.type === "closed") closed?.(m.unsaved);
    else if (m.type === "spend") opts.onSpend?.(m.update);
  });
  worker.on("error", (err) => {
    failure = `writer thread failed: ${err.message}`;
    opts.log.error(`${failure}; calls stay in the journal and are recorded at the next start`);
  });
  worker.on("exit", () => {
    failure ??= "writer thread exited";
    for (const settle of flushes.values()) settle(false);
    flushes.clear();
    for (const settle of metricsAsked.values()) settle(null);
    metricsAsked.clear();
    closed?.(-1);
  });
  await firstMessage(worker, "ready");

  const send = (m: ToWriter) => {
    if (!failure) worker.postMessage(m);
  };
  return {
    post: (rows, places) => send({ type: "rows", rows, places }),
    postSpend: (report) => send({ type: "spend", report }),
    flush: () =>
      failure
        ? Promise.resolve(false)
        : new Promise<boolean>((resolve) => {
            const id = nextFlush++;
            flushes.set(id, resolve);
            send({ type: "flush", id });
          }),
    metrics: (timeoutMs) =>
      failure
        ? Promise.resolve(null)
        : new Promise<string | null>((resolve) => {
            const id = nextMetrics++;
            const timer = setTimeout(() => {
              metricsAsked.delete(id);
              resolve(null);
            }, timeoutMs);
            metricsAsked.set(id, (text) => {
              clearTimeout(timer);
              resolve(text);
            });
            send({ type: "metrics", id });
          }),
    close: async (graceMs) => {
      if (failure) return -1;
      const unsaved = await new Promise<number>((resolve) => {
        closed = resolve;
        send({ type: "close", graceMs });
      });
      await worker.terminate();
      return unsaved;
    },
    get health() {
      return health;
    },
    get failure() {
      return failure;
    },
  };
}
