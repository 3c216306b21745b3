import type { Db } from "../db/database.ts";
import type { NewCall } from "../db/schema.ts";
import { sqliteClient } from "../db/sqlite.ts";
import { callInserter } from "./insert-statements.ts";
import type { Logger } from "../log.ts";

/** What the proxy hands the recorder for one call: the row plus optional (already capped) bodies. */
export interface CallRecord {
  call: Omit<NewCall, "id">;
  bodies?: { request: string | null; response: string | null; truncated: boolean };
}

export interface RecorderOptions {
  batchSize: number;
  flushMs: number;
  log: Logger;
  /** Cost in nano-USD for a call, or null when its model has no price (never 0 by default). */
  priceCall?: (call: Omit<NewCall, "id">) => number | null;
  /** Runs at the start of each batch transaction (e.g. reload the price catalog once per batch). */
  beforeBatch?: () => Promise<void>;
  /** `n` more rows committed, in the order they were enqueued (the journal frees them). */
  onCommitted?: (n: number) => void;
  /** A batch of `rows` committed in `ms` milliseconds (its transaction, for the flush latency). */
  onBatch?: (rows: number, ms: number) => void;
  /** A write failed; returns a fresh connection to retry on (e.g. after a read-only open). */
  onWriteFailure?: (err: unknown) => Db | null;
}

/**
 * In-memory queue → batched writer, in the writer thread. Rows leave the queue only after their
 * transaction committed (LiteLLM #34820 lost rows that were dequeued before a failed write); a
 * failed write is retried with backoff for as long as it takes. Losing the process loses
 * nothing: every row was journaled before it got here (journal.ts). request_id is unique, so a
 * retried or replayed batch can never write a call twice.
 */
export class Recorder {
  private queue: CallRecord[] = [];
  private timer: NodeJS.Timeout | null = null;
  private retryAt = 0;
  private failures = 0;
  private flushScheduled = false;
  /** The flush running now: the next one starts after it (both would write the queue's head). */
  private flushing: Promise<boolean> | null = null;
  private db!: Db;
  private insert!: ReturnType<typeof callInserter>;
  private open = 0;
  /** Queued rows that were there when a write failed (the front of the queue), not yet counted. */
  private waitedOut = 0;
  recorded = 0;
  /** Rows that waited through at least one failed write before they committed. */
  spilled = 0;
  /** Why the last write failed, until one succeeds (for /healthz). */
  lastError: string | null = null;

  constructor(
    db: Db,
    private readonly opts: RecorderOptions,
  ) {
    this.useDatabase(db);
  }

  /** (Re)bind the prepared statements to a connection. */
  useDatabase(db: Db): void {
    this.db = db;
    this.insert = callInserter(sqliteClient(db));
  }

  start(): void {
    this.timer = setInterval(() => void this.flush(), this.opts.flushMs);
    this.timer.unref();
  }

  get pending(): number {
    return this.queue.length;
  }

  /** Calls that have started but not yet enqueued their row; close() waits for them. */
  get openCalls(): number {
    return this.open;
  }

  beginCall(): void {
    this.open++;
  }

  /** Enqueue the row of a call announced with beginCall(). */
  endCall(record: CallRecord): void {
    this.open = Math.max(0, this.open - 1);
    this.enqueue(record);
  }

  enqueue(record: CallRecord): void {
    this.queue.push(record);
    if (this.queue.length >= this.opts.batchSize && !this.flushScheduled) {
      this.flushScheduled = true;
      setImmediate(() => {
        this.flushScheduled = false;
        void this.flush();
      });
    }
  }

  /**
   * Write everything queued, batch by batch. Resolves to false if a write failed (rows kept).
   * Flushes run one after another, so one asked for now also writes what an earlier, still
   * running one had not taken. Never rejects.
   */
  flush(force = false): Promise<boolean> {
    // The timer's flush has nothing to add to one that is running (it writes until the queue is empty).
    if (this.flushing && !force) return this.flushing;
    const before = this.flushing;
    const run = before ? before.then(() => this.writeQueued(force)) : this.writeQueued(force);
    this.flushing = run;
    void run.then(() => {
      if (this.flushing === run) this.flushing = null;
    });
    return run;
  }

  private async writeQueued(force: boolean): Promise<boolean> {
    if (!force && Date.now() < this.retryAt) return false;
    while (this.queue.length > 0) {
      const batch = this.queue.slice(0, this.opts.batchSize);
      const t0 = performance.now();
      try {
        await this.writeBatch(batch);
        this.opts.onBatch?.(batch.length, performance.now() - t0);
      } catch (err) {
        this.onWriteFailure(err);
        return false;
      }
      this.queue.splice(0, batch.length); // only now: the rows are committed
      this.recorded += batch.length;
      const waited = Math.min(batch.length, this.waitedOut);
      this.spilled += waited;
      this.waitedOut -= waited;
      this.opts.onCommitted?.(batch.length);
      if (this.failures > 0) {
        this.opts.log.info(`recorder: writes recovered after ${this.failures} failed attempt(s)`);
        this.failures = 0;
        this.lastError = null;
      }
    }
    return true;
  }

  /**
   * Wait (up to `graceMs`) for open calls to finish, stop the timer and write every queued
   * row, retrying until the deadline. Returns how many rows are still not in the database.
   */
  async close(graceMs = 5_000): Promise<number> {
    const deadline = Date.now() + graceMs;
    while (this.open > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    if (this.open > 0) this.opts.log.warn(`recorder: closing with ${this.open} call(s) still open`);
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    while (!(await this.flush(true)) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 500));
    return this.queue.length;
  }

  /** One transaction per batch; the rows go in through prepared statements, with no await per row. */
  private writeBatch(batch: CallRecord[]): Promise<void> {
    const insert = this.insert;
    return this.db.transaction(async () => {
      await this.opts.beforeBatch?.();
      this.writeRows(insert, batch);
    });
  }

  private writeRows(insert: ReturnType<typeof callInserter>, batch: CallRecord[]): void {
    const price = this.opts.priceCall;
    for (const rec of batch) {
      const id = insert.call(rec.call, price && rec.call.costNano === undefined ? price(rec.call) : undefined);
      if (id !== null && rec.bodies) {
        insert.bodies({ callId: id, requestBody: rec.bodies.request, responseBody: rec.bodies.response, truncated: rec.bodies.truncated });
      }
    }
  }

  private onWriteFailure(err: unknown): void {
    this.failures++;
    // Rows are committed in queue order, so the ones queued now are the next ones out.
    this.waitedOut = this.queue.length;
    const backoff = Math.min(5_000, 50 * 2 ** Math.min(this.failures, 7));
    this.retryAt = Date.now() + backoff;
    const message = err instanceof Error ? err.message : String(err);
    this.lastError = message;
    this.opts.log.warn(`recorder: write of ${Math.min(this.queue.length, this.opts.batchSize)} rows failed (${message}); ${this.queue.length} queued, retry in ${backoff} ms`);
    try {
      const fresh = this.opts.onWriteFailure?.(err);
      if (fresh) this.useDatabase(fresh);
    } catch (reopenErr) {
      this.opts.log.warn(`recorder: could not reopen the database: ${(reopenErr as Error).message}`);
    }
  }
}
