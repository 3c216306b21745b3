import type { Db } from "../db/database.ts";
import type { NewCall } from "../db/schema.ts";
import { sqliteClient } from "../db/sqlite.ts";
import { callInserter } from "./insert-statements.ts";
import type { Logger } from "../log.ts";
import { pgBatchWriter } from "./pg-batch-writer.ts";
import { SpillBacklog } from "./spill-backlog.ts";

/** What the proxy hands the recorder for one call: the row plus optional (already capped) bodies. */
export interface CallRecord {
  call: Omit<NewCall, "id">;
  bodies?: { request: string | null; response: string | null; truncated: boolean };
}

/** Cost in nano-USD for a call, or null when its model has no price. */
type PriceCall = (call: Omit<NewCall, "id">) => number | null;

/** A row of a committed batch and the cost the recorder gave it. */
interface PricedRow {
  call: Omit<NewCall, "id">;
  nano: number;
}

/** Writes one batch in one transaction on one engine; rejects when the batch did not commit. */
export interface BatchWriter {
  /** Batches that may be in flight at once (each on a connection of its own). */
  readonly parallel: number;
  /** `price` prices each row that does not carry its cost. */
  write(batch: readonly CallRecord[], price: PriceCall | undefined): Promise<void>;
}

/** Where rows past the memory cap wait: the serving thread's journal, which already holds them. */
interface SpillOptions {
  /** Rows the queue holds in memory at most; journaled rows past it are read back from the journal. */
  maxRows: number;
  /** The file of journal segment `n` (the live process's own journal). */
  segmentPath: (segment: number) => string;
}

export interface RecorderOptions {
  batchSize: number;
  flushMs: number;
  log: Logger;
  /** Cost in nano-USD for a call, or null when its model has no price (never 0 by default). */
  priceCall?: PriceCall;
  /**
   * Runs before each batch's rows are priced (e.g. reload the price catalog once per batch): on
   * SQLite at the start of the batch's transaction, on PostgreSQL just before it.
   */
  beforeBatch?: () => Promise<void>;
  /** `n` more rows committed, in the order they were enqueued (the journal frees them). */
  onCommitted?: (n: number) => void;
  /**
   * A batch of `rows` committed in `ms` milliseconds (its transaction, for the flush latency),
   * with the cost of each row it priced. Called in queue order, like onCommitted.
   */
  onBatch?: (rows: number, ms: number, priced: readonly PricedRow[]) => void;
  /** A write failed; returns a fresh connection to retry on (e.g. after a read-only open). */
  onWriteFailure?: (err: unknown) => Db | null;
  /** Bound the queue's memory; without it every row is held in memory until it commits. */
  spill?: SpillOptions;
}

/**
 * In-memory queue → batched writer, in the writer thread. Rows leave the queue only after their
 * transaction committed (LiteLLM #34820 lost rows that were dequeued before a failed write); a
 * failed write is retried with backoff for as long as it takes. Losing the process loses
 * nothing: every row was journaled before it got here (journal.ts). request_id is unique, so a
 * retried or replayed batch can never write a call twice.
 *
 * On PostgreSQL several batches are in flight at once (BatchWriter.parallel); they are still
 * reported committed in queue order, because the serving thread's journal frees rows by count
 * from its oldest. A batch that commits behind one that failed stays queued, and is written
 * again (as nothing) with the retry.
 *
 * Memory is bounded while the database refuses writes (options.spill): once `maxRows` rows are
 * queued, each further row that the journal holds is kept only as its place in the journal
 * (spill-backlog.ts), and so is every row after it until the backlog is empty, so rows still
 * commit in the order they came. As batches commit, rows are read back from the journal into
 * the freed room. Rows that came with no journal place (a failed append, a replay, a benchmark)
 * are always held in memory: nothing else holds them.
 */
export class Recorder {
  private queue: CallRecord[] = [];
  private timer: NodeJS.Timeout | null = null;
  private retryAt = 0;
  private failures = 0;
  private flushScheduled = false;
  /** The flush running now: the next one starts after it (both would write the queue's head). */
  private flushing: Promise<boolean> | null = null;
  private writer!: BatchWriter;
  private open = 0;
  /** Queued rows that were there when a write failed (the front of the queue), not yet counted. */
  private waitedOut = 0;
  recorded = 0;
  /** Rows that waited through at least one failed write before they committed. */
  spilled = 0;
  /** Why the last write failed, until one succeeds (for /healthz). */
  lastError: string | null = null;
  /** Rows past the memory cap, as places in the journal; null when memory is not bounded. */
  private readonly backlog: SpillBacklog | null;
  private readonly maxRows: number;
  /** The most rows the queue has held at once (what the memory cap bounds). */
  peakPending = 0;
  /** Rows enqueued so far, in memory or spilled, and rows given up as unreadable from the journal. */
  private enqueued = 0;
  private lost = 0;
  /** Set while rows are spilled: how many, and (once the backlog is empty) the row after which all are committed. */
  private spill: { rows: number; drainedAt: number | null } | null = null;

  constructor(
    db: Db,
    private readonly opts: RecorderOptions,
  ) {
    this.useDatabase(db);
    this.backlog = opts.spill ? new SpillBacklog(opts.spill.segmentPath, opts.log) : null;
    this.maxRows = opts.spill ? Math.max(1, opts.spill.maxRows) : Number.POSITIVE_INFINITY;
  }

  /** (Re)bind the batch writes to a connection (SQLite) or a pool (PostgreSQL). */
  useDatabase(db: Db): void {
    this.writer = db.dialect === "sqlite" ? sqliteBatchWriter(db, this.opts.beforeBatch) : pgBatchWriter(db, this.opts.beforeBatch);
  }

  start(): void {
    this.timer = setInterval(() => void this.flush(), this.opts.flushMs);
    this.timer.unref();
  }

  /** Rows held in memory (queued or in a batch being written). */
  get pending(): number {
    return this.queue.length;
  }

  /** Rows past the memory cap, waiting in the journal only to be read back. */
  get journalOnly(): number {
    return this.backlog?.rows ?? 0;
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

  /**
   * Queue a row to write. `segment` and `offset` say where the serving thread's journal holds it
   * (segment < 0: nowhere), so that past the memory cap it can wait there instead of in memory.
   */
  enqueue(record: CallRecord, segment = -1, offset = 0): void {
    this.enqueued++;
    const backlog = this.backlog;
    if (backlog !== null && (backlog.rows > 0 || (segment >= 0 && this.queue.length >= this.maxRows))) {
      this.spillRow(backlog, record, segment, offset);
      return;
    }
    this.queue.push(record);
    if (this.queue.length > this.peakPending) this.peakPending = this.queue.length;
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
    const writer = this.writer;
    const inFlight: Array<{ size: number; outcome: Promise<BatchOutcome> }> = [];
    /** Rows at the front of the queue that the batches in flight hold. */
    let taken = 0;
    // The rows queued when this flush began, and those read back from the journal. Rows that
    // arrive while it writes go now only when they fill a whole batch; the rest wait for the next
    // tick, so a batch holds about flushMs of calls. Writing whatever came in during the last
    // commit instead made batches of 2–10 rows at a few hundred calls/s, and each batch's round
    // trips and commit cost as much as its rows.
    let owed = this.queue.length;
    const ready = () => this.queue.length > taken && (owed > 0 || this.queue.length - taken >= this.opts.batchSize);
    for (;;) {
      const backlog = this.backlog !== null && this.backlog.rows > 0 ? this.backlog : null;
      // With nothing queued, a read back always moves on (rows read, or unreadable ones given up).
      let moved = false;
      if (backlog !== null) {
        const [queued, waiting] = [this.queue.length, backlog.rows];
        await this.readBack(backlog);
        owed += this.queue.length - queued;
        moved = backlog.rows !== waiting;
      }
      if (!ready() && inFlight.length === 0) {
        // Rows given up without being read back: look again; nothing moved: the next tick does.
        if (backlog !== null && backlog.rows > 0 && moved) continue;
        break;
      }
      while (inFlight.length < writer.parallel && ready()) {
        const batch = this.queue.slice(taken, taken + this.opts.batchSize);
        taken += batch.length;
        owed = Math.max(0, owed - batch.length);
        inFlight.push({ size: batch.length, outcome: this.attempt(writer, batch) });
      }
      const head = inFlight.shift()!;
      const outcome = await head.outcome;
      if (!outcome.ok) {
        // Let the batches behind it settle first: nothing may still be writing when the retry starts.
        await Promise.all(inFlight.map((b) => b.outcome));
        this.onWriteFailure(outcome.error);
        return false;
      }
      taken -= head.size;
      this.queue.splice(0, head.size); // only now: the rows are committed
      this.opts.onBatch?.(head.size, outcome.ms, outcome.priced);
      this.recorded += head.size;
      const waited = Math.min(head.size, this.waitedOut);
      this.spilled += waited;
      this.waitedOut -= waited;
      this.opts.onCommitted?.(head.size);
      this.noteDrained();
      if (this.failures > 0) {
        this.opts.log.info(`recorder: writes recovered after ${this.failures} failed attempt(s)`);
        this.failures = 0;
        this.lastError = null;
      }
    }
    return true;
  }

  /** A row past the memory cap (or behind one): it waits in the journal. Logged once per outage. */
  private spillRow(backlog: SpillBacklog, record: CallRecord, segment: number, offset: number): void {
    backlog.add(record, segment, offset);
    if (this.spill === null) {
      this.opts.log.warn(
        `recorder: ${this.queue.length} rows held in memory, the most allowed (RECORDER_MEMORY_MAX_ROWS); further rows wait in the journal only, and are read back from it as the database takes them`,
      );
      this.spill = { rows: 0, drainedAt: null };
    } else {
      // Spilling again before the last spilled rows committed: still one episode, one pair of lines.
      this.spill.drainedAt = null;
    }
    this.spill.rows++;
  }

  /**
   * Move rows from the journal back into memory while there is room for at least a batch. Rows
   * that cannot be read back are given up only when nothing is queued before them, so that the
   * commits reported by count stay in order.
   */
  private async readBack(backlog: SpillBacklog): Promise<void> {
    const room = this.maxRows - this.queue.length;
    if (room < Math.min(this.opts.batchSize, this.maxRows)) return;
    const { records, lost } = await backlog.take(room, this.queue.length === 0);
    for (const r of records) this.queue.push(r);
    if (this.queue.length > this.peakPending) this.peakPending = this.queue.length;
    if (lost > 0) {
      this.lost += lost;
      this.opts.onCommitted?.(lost);
    }
    if (backlog.rows === 0 && this.spill !== null && this.spill.drainedAt === null) this.spill.drainedAt = this.enqueued;
    this.noteDrained();
  }

  /** Log once when every row that waited in the journal only has committed. */
  private noteDrained(): void {
    const spill = this.spill;
    if (spill === null || spill.drainedAt === null || this.recorded + this.lost < spill.drainedAt) return;
    this.opts.log.info(`recorder: the ${spill.rows} rows that waited in the journal only are committed; rows are held in memory again`);
    this.spill = null;
  }

  /** Write one batch; never rejects. */
  private async attempt(writer: BatchWriter, batch: readonly CallRecord[]): Promise<BatchOutcome> {
    const t0 = performance.now();
    const priced: PricedRow[] = [];
    const price = this.opts.priceCall;
    // The cost of each row is kept for onBatch, which hears of it only if the batch commits.
    const pricing: PriceCall | undefined =
      price &&
      (this.opts.onBatch
        ? (call) => {
            const nano = price(call);
            if (nano !== null) priced.push({ call, nano });
            return nano;
          }
        : price);
    try {
      await writer.write(batch, pricing);
      return { ok: true, ms: performance.now() - t0, priced };
    } catch (error) {
      return { ok: false, error };
    }
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
    return this.queue.length + this.journalOnly;
  }

  private onWriteFailure(err: unknown): void {
    this.failures++;
    // Rows are committed in queue order, so the ones queued now (then the spilled ones) are the next ones out.
    this.waitedOut = this.queue.length + this.journalOnly;
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

type BatchOutcome = { ok: true; ms: number; priced: PricedRow[] } | { ok: false; error: unknown };

/**
 * SQLite's batch write: one transaction per batch on the thread's one connection, the rows going
 * in through prepared statements with no await per row. One batch at a time (one connection).
 */
function sqliteBatchWriter(db: Db, beforeBatch: (() => Promise<void>) | undefined): BatchWriter {
  const insert = callInserter(sqliteClient(db));
  return {
    parallel: 1,
    write: (batch, price) =>
      db.transaction(async () => {
        await beforeBatch?.();
        for (const rec of batch) {
          const id = insert.call(rec.call, price && rec.call.costNano === undefined ? price(rec.call) : undefined);
          if (id !== null && rec.bodies) {
            insert.bodies({ callId: id, requestBody: rec.bodies.request, responseBody: rec.bodies.response, truncated: rec.bodies.truncated });
          }
        }
      }),
  };
}
