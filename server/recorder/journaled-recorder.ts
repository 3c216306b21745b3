import type { Journal, JournalRef } from "./journal.ts";
import type { CallStartRecord } from "./journal-format.ts";
import type { CallRecord } from "./recorder.ts";

/** Where the serving thread sends call rows: the writer thread's handle (workers/writer.ts). */
export interface RowSink {
  post(rows: CallRecord[]): void;
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
  private readonly refs: JournalRef[] = [];
  private head = 0;
  private buffer: CallRecord[] = [];
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
    this.refs.push(this.journal.end(record, start));
    this.buffer.push(record);
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
    for (let i = 0; i < n && this.head < this.refs.length; i++) this.journal.committed(this.refs[this.head++]!);
    this.recorded += n;
    if (this.head > 4096 && this.head * 2 > this.refs.length) {
      this.refs.splice(0, this.head);
      this.head = 0;
    }
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
    this.buffer = [];
    this.sink.post(rows);
  }
}
