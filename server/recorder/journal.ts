import { closeSync, fdatasyncSync, mkdirSync, openSync, readdirSync, rmSync, utimesSync, writeSync, writeFileSync } from "node:fs";
import { open as openCb, write as writeCb } from "node:fs";
import { promisify } from "node:util";

const openAsync = promisify(openCb);
const writeAsync = promisify(writeCb);
import { join } from "node:path";
import type { CallRecord } from "./recorder.ts";
import type { CallStartRecord } from "./journal-format.ts";

/**
 * The recorder's write-ahead journal, on the serving thread. Every call's row is appended here
 * (a plain write(2): it lands in the page cache, which survives a crash of this process) before
 * the caller's response completes; the row then goes to the writer thread, which commits it to
 * the database in batches. A segment file is deleted only once every row in it has committed,
 * so whatever the process dies with is replayed at the next start (journal-replay.ts), keyed by
 * request_id so a row that did commit is not written twice.
 *
 * The start of each forwarded call is journaled too: a call whose end never made it (the process
 * died mid-call) is then recorded at the next start as interrupted instead of going missing.
 *
 * Segments are preallocated (filled with zeros ahead of use, the next one off this thread), so a
 * disk that fills up later still takes the rows: they are written into space already held.
 * A reader stops at the first zero byte.
 *
 * Segments are named `<owner>-<n>.jsonl`, where owner is `<pid>-<start ms>`; an `<owner>.owner`
 * file is touched every few seconds so another process sharing the folder can tell a live
 * journal from a dead one (journal-replay.ts `recoverableOwners`).
 */
export interface JournalOptions {
  dir: string;
  /** Size of a segment; a new one starts when it is full (old ones go as their rows commit). */
  segmentBytes?: number;
  /**
   * fdatasync after each call's row, before its response completes: survives power loss, at the
   * cost of one disk flush per call on the serving thread (off by default: a process crash is
   * already covered by the page cache).
   */
  fsync?: boolean;
}

interface Segment {
  n: number;
  path: string;
  fd: number;
  bytes: number;
  /** Rows written to this segment, plus starts in it, not yet committed to the database. */
  outstanding: number;
  closed: boolean;
}

/** What the journal needs to know when a row commits: the segments holding its end and start. */
export interface JournalRef {
  end: Segment;
  /** The segment of the call's start, still held: only when the end could not be appended. */
  start: Segment | null;
  /** The row's append failed: until it commits, only the writer thread's memory holds it. */
  unkept: boolean;
  /** Byte offset of the row's line in `end` (where the writer reads it back if it spills it). */
  at: number;
}

export const OWNER_HEARTBEAT_MS = 2_000;

export class Journal {
  readonly owner = `${process.pid}-${Date.now()}`;
  private current: Segment;
  private readonly segmentBytes: number;
  private readonly heartbeat: NodeJS.Timeout;
  private readonly ownerPath: string;
  /** The next segment, preallocated in the background; null until ready. */
  private spare: { n: number; path: string; fd: number } | null = null;
  /** The number of the segment being preallocated, if one is. */
  private preparingN: number | null = null;
  /** That preallocation, settled once its file is the spare or removed (close waits for it). */
  private preparing: Promise<void> = Promise.resolve();
  private closedAll = false;
  /** Rows appended but not yet committed (what a crash now would leave for the next start). */
  uncommitted = 0;
  /** Set when an append failed (disk full, folder gone): the reason /healthz reports. */
  lastError: string | null = null;
  /** Rows whose append failed and that have not committed yet (lost if the writer dies now). */
  unjournaled = 0;
  private appendFailures = 0;
  /** Where the last append's line starts in its segment. */
  private lastAppendAt = 0;

  constructor(private readonly opts: JournalOptions) {
    mkdirSync(opts.dir, { recursive: true });
    this.segmentBytes = opts.segmentBytes ?? 4 * 1024 * 1024;
    this.ownerPath = join(opts.dir, `${this.owner}.owner`);
    writeFileSync(this.ownerPath, String(process.pid));
    this.heartbeat = setInterval(() => this.touchOwner(), OWNER_HEARTBEAT_MS);
    this.heartbeat.unref();
    this.current = this.openSegment(0);
    this.prepareSpare();
  }

  /** Journal the start of a forwarded call; returns the segment to pass to `end`. */
  start(record: CallStartRecord): Segment {
    return this.append(`{"s":${JSON.stringify(record)}}\n`, false);
  }

  /**
   * Journal a call's row; returns the ref to hand back to `committed` once it is in the database.
   * The call's start line is let go of here, once the row's own line is appended: a replay finds
   * the row by that line, so the start has nothing left to record. (Kept until the commit, the
   * starts would make every row's ref different and the serving thread hold one per row.)
   */
  end(record: CallRecord, start: Segment | null): JournalRef {
    const failuresBefore = this.appendFailures;
    const seg = this.append(`{"e":${JSON.stringify(record)}}\n`, this.opts.fsync === true);
    this.uncommitted++;
    const unkept = this.appendFailures !== failuresBefore;
    if (unkept) this.unjournaled++;
    else if (start) this.release(start);
    return { end: seg, start: unkept ? start : null, unkept, at: this.lastAppendAt };
  }

  /** `rows` rows of `ref`'s kind (same segments) committed: their segments may now be deletable. */
  committed(ref: JournalRef, rows = 1): void {
    this.uncommitted -= rows;
    if (ref.unkept) this.unjournaled -= rows;
    this.release(ref.end, rows);
    if (ref.start) this.release(ref.start, rows);
  }

  /** The journal's folder (for /healthz and the shutdown message). */
  get path(): string {
    return this.opts.dir;
  }

  /**
   * Stop journaling. Segments whose rows all committed are removed, and so is the owner file
   * when nothing is left; anything uncommitted stays for the next start. Resolves once a spare
   * still being preallocated in the background has been removed too (else its file appears after
   * close, and a caller removing the folder meets it).
   */
  close(): Promise<void> {
    this.closedAll = true;
    clearInterval(this.heartbeat);
    if (this.spare) {
      closeSync(this.spare.fd);
      rmSync(this.spare.path, { force: true });
      this.spare = null;
    }
    this.current.closed = true;
    closeSync(this.current.fd);
    this.maybeDelete(this.current);
    if (this.uncommitted === 0) rmSync(this.ownerPath, { force: true });
    return this.preparing;
  }

  /** Append one line; the segment counts it as outstanding until `release` (before any rotation). */
  private append(line: string, sync: boolean): Segment {
    // The string goes to write(2) as is (no Buffer of our own per line): this runs on every call.
    const size = Buffer.byteLength(line);
    if (this.current.bytes > 0 && this.current.bytes + size > this.segmentBytes) this.rotate();
    const seg = this.current;
    seg.outstanding++;
    this.lastAppendAt = seg.bytes;
    try {
      seg.bytes += writeSync(seg.fd, line, seg.bytes);
      this.lastError = null;
    } catch (err) {
      // The row still goes to the writer thread; only its crash-safety is lost. /healthz says so.
      this.appendFailures++;
      this.lastError = `journal append failed: ${(err as Error).message}`;
    }
    if (sync) this.sync(seg);
    return seg;
  }

  private sync(seg: Segment): void {
    try {
      fdatasyncSync(seg.fd);
    } catch (err) {
      this.lastError = `journal fsync failed: ${(err as Error).message}`;
    }
  }

  private rotate(): void {
    const old = this.current;
    const spare = this.spare;
    this.spare = null;
    // No spare ready (rows came faster than the preallocation): open one here, numbered past the
    // one still being prepared, which must not be this file (its zeros would land on our rows).
    this.current = spare ? { ...spare, bytes: 0, outstanding: 0, closed: false } : this.openSegment(Math.max(old.n, this.preparingN ?? -1) + 1);
    this.prepareSpare();
    old.closed = true;
    closeSync(old.fd);
    this.maybeDelete(old);
  }

  private segmentPath(n: number): string {
    return segmentPath(this.opts.dir, this.owner, n);
  }

  /** Open a segment now, preallocating it on this thread (only at start, or if the spare is late). */
  private openSegment(n: number): Segment {
    const path = this.segmentPath(n);
    const fd = openSync(path, "w");
    try {
      writeSync(fd, Buffer.alloc(this.segmentBytes), 0, this.segmentBytes, 0);
    } catch (err) {
      this.lastError = `journal preallocation failed: ${(err as Error).message}`;
    }
    return { n, path, fd, bytes: 0, outstanding: 0, closed: false };
  }

  /** Preallocate the next segment off this thread (libuv's pool), ready before it is needed. */
  private prepareSpare(): void {
    if (this.preparingN !== null || this.spare) return;
    const n = this.current.n + 1;
    this.preparingN = n;
    const path = this.segmentPath(n);
    this.preparing = (async () => {
      // Raw descriptors (not a FileHandle, which closes itself when garbage-collected).
      const fd = await openAsync(path, "w");
      try {
        await writeAsync(fd, Buffer.alloc(this.segmentBytes), 0, this.segmentBytes, 0);
      } catch (err) {
        this.lastError = `journal preallocation failed: ${(err as Error).message}`;
      }
      return fd;
    })().then(
      (fd) => {
        this.preparingN = null;
        // Overtaken: a later segment was opened on this thread while this one was being filled.
        const stale = n <= this.current.n;
        if (this.closedAll || stale) {
          closeSync(fd);
          rmSync(path, { force: true });
          if (stale && !this.closedAll) this.prepareSpare();
        } else this.spare = { n, path, fd };
      },
      (err: Error) => {
        this.preparingN = null;
        this.lastError = `journal preallocation failed: ${err.message}`;
      },
    );
  }

  private release(seg: Segment, rows = 1): void {
    seg.outstanding -= rows;
    this.maybeDelete(seg);
  }

  private maybeDelete(seg: Segment): void {
    if (seg.closed && seg.outstanding === 0) rmSync(seg.path, { force: true });
  }

  private touchOwner(): void {
    const now = new Date();
    try {
      utimesSync(this.ownerPath, now, now);
    } catch {
      // Folder gone or disk trouble: appends report it; a stale owner only makes another
      // process replay this journal, which request_id keeps idempotent.
    }
  }
}

/** The file of segment `n` of `owner`'s journal in `dir` (the writer thread reads spilled rows back from it). */
export function segmentPath(dir: string, owner: string, n: number): string {
  return join(dir, `${owner}-${String(n).padStart(6, "0")}.jsonl`);
}

/** Segment files in `dir`, oldest first, grouped by owner. */
export function listSegments(dir: string): Map<string, string[]> {
  const byOwner = new Map<string, string[]>();
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return byOwner;
  }
  for (const name of names.sort()) {
    const m = /^(\d+-\d+)-\d+\.jsonl$/.exec(name);
    if (!m) continue;
    const list = byOwner.get(m[1]!) ?? [];
    list.push(join(dir, name));
    byOwner.set(m[1]!, list);
  }
  return byOwner;
}
