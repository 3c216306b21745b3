import { FifoQueue } from "./fifo-queue.ts";
import type { Journal, JournalRef } from "./journal.ts";
import type { CallStartRecord } from "./journal-format.ts";
import type { CallRecord } from "./recorder.ts";

/** Where the serving thread sends call rows: the writer thread's handle (workers/writer.ts). */
export interface RowSink {
  /**
   * Rows, and for each the journal segment and byte offset of its line (two numbers per row,
   * segment -1 when the append failed), so the writer can leave rows past its memory cap there.
   */
  post(rows: CallRecord[], places: number[]): void;
  flush(): Promise<boolean>;
}

/** The journal segment holding a call's start, to be released with its row. */
export type StartRef = ReturnType<Journal["start"]>;

/**
 * The recorder as the serving thread sees it: each row is journaled (synchronously, before the
 * caller's response completes), then handed to the writer thread in small batches. Nothing here
 * touches the database, so /v1 never waits on it. Rows count as recorded when the writer
 * reports them committed; only then does the journal let go of them.
 */
export class JournaledRecorder {
  private open = 0;
  /**
   * The journal refs of the rows not committed yet, oldest first, as runs of rows with the same
   * segments: during a database outage that is one run per segment filled, not one entry per call.
   */
  private readonly runs = new FifoQueue<{ ref: JournalRef; rows: number }>();
  private buffer: CallRecord[] = [];
  private places: number[] = [];
  private posting = false;
  recorded = 0;
  /** Rows enqueued so far: a row is committed once `recorded` reaches its number. */
  enqueued = 0;

  constructor(
    private readonly journal: Journal,
    private readonly sink: RowSink,
    private readonly opts: {
      batchSize: number;
      /**
       * How long a row may wait here before it goes to the writer thread (a whole batch goes at
       * once). Each message wakes the writer thread; at a few hundred calls/s a message per call
       * cost that thread more CPU than writing the rows did.
       */
      postMs?: number;
    },
  ) {}

  /** Rows journaled but not yet committed to the database. */
  get pending(): number {
    return this.journal.uncommitted;
  }

  /** Calls that have started but not yet handed over their row. */
  get openCalls(): number {
    return this.open;
  }

  beginCall(): void {
    this.open++;
  }

  /** The call is about to go upstream: journal its start, so a crash leaves an interrupted row. */
  forwarding(start: CallStartRecord): StartRef {
    return this.journal.start(start);
  }

  endCall(record: CallRecord, start: StartRef | null = null): void {
    this.open = Math.max(0, this.open - 1);
    this.enqueue(record, start);
  }

  enqueue(record: CallRecord, start: StartRef | null = null): void {
    this.enqueued++;
    const ref = this.journal.end(record, start);
    const last = this.runs.last();
    if (last !== undefined && last.ref.end === ref.end && last.ref.start === ref.start && last.ref.unkept === ref.unkept) last.rows++;
    else this.runs.push({ ref, rows: 1 });
    this.buffer.push(record);
    this.places.push(ref.unkept ? -1 : ref.end.n, ref.at);
    if (this.buffer.length >= this.opts.batchSize) this.post();
    else if (!this.posting) {
      // One message per postMs (or per turn of the event loop), not per call.
      this.posting = true;
      if (this.opts.postMs) setTimeout(() => this.post(), this.opts.postMs).unref();
      else setImmediate(() => this.post());
    }
  }

  /** The writer committed the next `n` rows (it commits in the order they were posted). */
  committed(n: number): void {
    let left = n;
    for (let run = this.runs.first(); left > 0 && run !== undefined; run = this.runs.first()) {
      const k = Math.min(left, run.rows);
      this.journal.committed(run.ref, k);
      run.rows -= k;
      left -= k;
      if (run.rows === 0) this.runs.shift();
    }
    this.recorded += n;
  }

  /** Entries held for the rows not committed yet (runs of rows in the same segments). */
  get heldRuns(): number {
    return this.runs.length;
  }

  /** Resolves once every row enqueued so far is in the database (false: a write failed). */
  async flushed(): Promise<boolean> {
    this.post();
    return this.sink.flush();
  }

  private post(): void {
    this.posting = false;
    if (this.buffer.length === 0) return;
    const rows = this.buffer;
    const places = this.places;
    this.buffer = [];
    this.places = [];
    this.sink.post(rows, places);
  }
}
