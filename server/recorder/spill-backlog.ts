import type { Logger } from "../log.ts";
import { FifoQueue } from "./fifo-queue.ts";
import { JournalLineReader, parseJournalLine } from "./journal-lines.ts";
import type { CallRecord } from "./recorder.ts";

/**
 * Rows past the recorder's memory cap, in the order they were enqueued, held as places in the
 * serving thread's journal instead of as rows: a stretch of rows that sit one after another in
 * one segment is one entry (the segment, the offset of its first row, how many rows), so a long
 * outage costs one small entry per journal segment, not one per call. A row whose journal append
 * failed is on no disk, so it is kept here as it is (rare: segments are preallocated).
 *
 * Reading back relies on the journal's order: the serving thread appends each row's line and
 * posts the row in the same order, and every row after the first spilled one is spilled too
 * until the backlog empties. So from a stretch's first offset on, the segment's finished-call
 * lines are exactly the stretch's rows, in order; the call-start lines between them are skipped.
 */
export class SpillBacklog {
  private readonly entries = new FifoQueue<Stretch | CallRecord>();
  /** Rows held here (journal places and kept rows together). */
  rows = 0;

  constructor(
    private readonly segmentPath: (segment: number) => string,
    private readonly log: Logger,
  ) {}

  /** Append a row journaled at `offset` of `segment` (a negative segment: not journaled, keep `record`). */
  add(record: CallRecord, segment: number, offset: number): void {
    this.rows++;
    if (segment < 0) {
      this.entries.push(record);
      return;
    }
    const last = this.entries.last();
    if (last instanceof Stretch && last.segment === segment) last.rows++;
    else this.entries.push(new Stretch(segment, offset));
  }

  /**
   * Take up to `max` rows from the front, read back from the journal (a bounded window at a
   * time). A stretch that cannot be read (its segment gone or corrupt) stops the take; when
   * `mayDrop` (nothing is queued before it) and nothing was read, its rows are given up with an
   * error logged and returned as `lost`: the recorder reports commits by count in order, and
   * those rows are unrecoverable by anyone.
   */
  async take(max: number, mayDrop: boolean): Promise<{ records: CallRecord[]; lost: number }> {
    const records: CallRecord[] = [];
    for (let entry = this.entries.first(); records.length < max && entry !== undefined; entry = this.entries.first()) {
      if (!(entry instanceof Stretch)) {
        records.push(entry);
        this.rows--;
        this.entries.shift();
        continue;
      }
      // Counted by the rows read, not by how far the stretch's count fell: rows enqueued while
      // the read waits on the file join this same stretch (add), and counting the fall lost sight
      // of them, so `rows` stayed above what was held and /healthz showed rows waiting forever.
      const already = records.length;
      const readable = await this.readStretch(entry, records, max - records.length);
      this.rows -= records.length - already;
      if (entry.rows === 0) {
        this.entries.shift();
        continue;
      }
      if (readable) continue;
      if (!mayDrop || records.length > 0) break;
      const lost = entry.rows;
      this.log.error(`recorder: ${lost} call row(s) spilled to ${this.segmentPath(entry.segment)} could not be read back from byte ${entry.offset}; they are not recorded`);
      this.rows -= lost;
      entry.rows = 0;
      this.entries.shift();
      return { records, lost };
    }
    return { records, lost: 0 };
  }

  /** Read up to `max` of the stretch's rows into `out`; false when its segment ran out first. */
  private async readStretch(stretch: Stretch, out: CallRecord[], max: number): Promise<boolean> {
    let reader: JournalLineReader;
    try {
      reader = await JournalLineReader.open(this.segmentPath(stretch.segment), stretch.offset);
    } catch {
      return false;
    }
    try {
      let wanted = max;
      while (wanted > 0 && stretch.rows > 0) {
        const lines = await reader.next();
        if (lines.length === 0) return false;
        for (const { text, end } of lines) {
          // A call's start line: skipped without parsing it.
          if (text.startsWith('{"s":')) {
            stretch.offset = end;
            continue;
          }
          const line = parseJournalLine(text);
          if (line === null || !("e" in line)) return false;
          stretch.offset = end;
          out.push(line.e);
          stretch.rows--;
          if (--wanted === 0 || stretch.rows === 0) break;
        }
      }
      return true;
    } finally {
      await reader.close();
    }
  }
}

/** `rows` spilled rows whose finished-call lines start at `offset` of journal segment `segment`. */
class Stretch {
  rows = 1;
  constructor(
    readonly segment: number,
    public offset: number,
  ) {}
}
