import { appendFileSync, existsSync, readFileSync, renameSync, unlinkSync } from "node:fs";
import type { Db } from "../db/open.ts";
import type { NewCall } from "../db/schema.ts";
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
  /** JSONL file that takes rows SQLite refused while the queue is over `maxQueued`. */
  spillPath: string | null;
  maxQueued?: number;
  log: Logger;
  /** Cost in nano-USD for a call, or null when its model has no price (never 0 by default). */
  priceCall?: (call: Omit<NewCall, "id">) => number | null;
  /** Runs at the start of each batch transaction (e.g. reload the price catalog once per batch). */
  beforeBatch?: () => void;
}

/**
 * In-memory queue → batched writer. Serving code only calls enqueue() (O(1), never touches
 * SQLite). Rows leave the queue only after their transaction committed (LiteLLM #34820 lost rows
 * that were dequeued before a failed write); a failed write is retried with backoff, and when
 * the queue outgrows `maxQueued` the oldest rows are spilled to a file and replayed later.
 * request_id is unique, so replaying a spilled or retried batch can never write a call twice.
 */
export class Recorder {
  private queue: CallRecord[] = [];
  private timer: NodeJS.Timeout | null = null;
  private retryAt = 0;
  private failures = 0;
  private flushScheduled = false;
  private readonly maxQueued: number;
  private readonly insert: ReturnType<typeof callInserter>;
  private readonly writeInTransaction: (batch: CallRecord[]) => void;
  private open = 0;
  recorded = 0;

  constructor(
    db: Db,
    private readonly opts: RecorderOptions,
  ) {
    this.maxQueued = opts.maxQueued ?? 200_000;
    this.insert = callInserter(db.$client);
    this.writeInTransaction = db.$client.transaction((batch: CallRecord[]) => this.writeRows(batch));
  }

  start(): void {
    this.replaySpill();
    this.timer = setInterval(() => this.flush(), this.opts.flushMs);
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
        this.flush();
      });
    }
  }

  /** Write everything queued, batch by batch. Returns false if a write failed (rows kept). */
  flush(force = false): boolean {
    if (!force && Date.now() < this.retryAt) return false;
    while (this.queue.length > 0) {
      const batch = this.queue.slice(0, this.opts.batchSize);
      try {
        this.writeBatch(batch);
      } catch (err) {
        this.onWriteFailure(err);
        return false;
      }
      this.queue.splice(0, batch.length); // only now: the rows are committed
      this.recorded += batch.length;
      if (this.failures > 0) {
        this.opts.log.info(`recorder: writes recovered after ${this.failures} failed attempt(s)`);
        this.failures = 0;
        this.replaySpill();
      }
    }
    return true;
  }

  /**
   * Wait (up to `graceMs`) for open calls to finish, stop the timer and write every queued
   * row, retrying until the deadline; whatever still cannot be written is spilled to disk.
   */
  async close(graceMs = 5_000): Promise<void> {
    const deadline = Date.now() + graceMs;
    while (this.open > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    if (this.open > 0) this.opts.log.warn(`recorder: closing with ${this.open} call(s) still open`);
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    while (!this.flush(true) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    if (this.queue.length > 0) {
      this.spill(this.queue.length);
      if (this.queue.length > 0) this.opts.log.error(`recorder: ${this.queue.length} call rows could not be written or spilled`);
    }
  }

  private writeBatch(batch: CallRecord[]): void {
    this.writeInTransaction(batch);
  }

  private writeRows(batch: CallRecord[]): void {
    this.opts.beforeBatch?.();
    const price = this.opts.priceCall;
    for (const rec of batch) {
      const id = this.insert.call(rec.call, price && rec.call.costNano === undefined ? price(rec.call) : undefined);
      if (id !== null && rec.bodies) {
        this.insert.bodies({ callId: id, requestBody: rec.bodies.request, responseBody: rec.bodies.response, truncated: rec.bodies.truncated });
      }
    }
  }

  private onWriteFailure(err: unknown): void {
    this.failures++;
    const backoff = Math.min(5_000, 50 * 2 ** Math.min(this.failures, 7));
    this.retryAt = Date.now() + backoff;
    const message = err instanceof Error ? err.message : String(err);
    this.opts.log.warn(`recorder: write of ${Math.min(this.queue.length, this.opts.batchSize)} rows failed (${message}); ${this.queue.length} queued, retry in ${backoff} ms`);
    if (this.queue.length > this.maxQueued) this.spill(this.queue.length - this.maxQueued);
  }

  private spill(count: number): void {
    if (!this.opts.spillPath) return;
    const rows = this.queue.slice(0, count);
    try {
      appendFileSync(this.opts.spillPath, rows.map((r) => JSON.stringify(r)).join("\n") + "\n");
      this.queue.splice(0, rows.length);
      this.opts.log.warn(`recorder: spilled ${rows.length} call rows to ${this.opts.spillPath}; they are replayed once SQLite accepts writes`);
    } catch (err) {
      this.opts.log.error(`recorder: could not spill to ${this.opts.spillPath}: ${(err as Error).message}; keeping rows in memory`);
    }
  }

  /** Re-queue rows spilled by an earlier failure (or an earlier process) at the front. */
  private replaySpill(): void {
    const path = this.opts.spillPath;
    if (!path || !existsSync(path)) return;
    const claimed = `${path}.replaying-${process.pid}`;
    try {
      renameSync(path, claimed);
      const rows = readFileSync(claimed, "utf8")
        .split("\n")
        .filter((l) => l.trim() !== "")
        .map((l) => JSON.parse(l) as CallRecord);
      this.queue.unshift(...rows);
      unlinkSync(claimed);
      this.opts.log.info(`recorder: replaying ${rows.length} spilled call rows`);
    } catch (err) {
      this.opts.log.error(`recorder: could not replay ${path}: ${(err as Error).message}`);
    }
  }
}
