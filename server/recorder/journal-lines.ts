import { open, type FileHandle } from "node:fs/promises";
import type { JournalLine } from "./journal-format.ts";

/** Bytes read from a segment at a time: a bounded window, however large the journal grew. */
const CHUNK_BYTES = 256 * 1024;

/** One line of a segment, and the byte offset just past it (where the next line starts). */
export interface ReadLine {
  /** The line's text: parse it with parseJournalLine (only the lines a caller uses cost a parse). */
  text: string;
  end: number;
}

/**
 * Reads a journal segment's lines from a byte offset, one bounded chunk at a time, so that a
 * journal of any size is never in memory at once (a long database outage can leave gigabytes).
 * A line longer than the window grows the window until the line fits (one row with large bodies).
 * The segment ends at its first zero byte (segments are preallocated with zeros) or at a last
 * line with no newline (a write torn by a crash, or one still being written).
 */
export class JournalLineReader {
  private handle: FileHandle | null = null;
  private buffer = Buffer.allocUnsafe(CHUNK_BYTES);
  private done = false;

  private constructor(private position: number) {}

  /** Open `path` to read from byte `offset`; rejects when the file cannot be opened. */
  static async open(path: string, offset = 0): Promise<JournalLineReader> {
    const reader = new JournalLineReader(offset);
    reader.handle = await open(path, "r");
    return reader;
  }

  /** The next complete lines (at least one), or an empty array at the segment's end. */
  async next(): Promise<ReadLine[]> {
    if (this.done || !this.handle) return [];
    for (;;) {
      const { bytesRead } = await this.handle.read(this.buffer, 0, this.buffer.length, this.position);
      const zero = this.buffer.subarray(0, bytesRead).indexOf(0);
      const usable = zero === -1 ? bytesRead : zero;
      const lastNewline = this.buffer.subarray(0, usable).lastIndexOf(10);
      if (lastNewline === -1) {
        // No whole line in the window: a line longer than it (read again with room for it), or the end.
        if (usable === this.buffer.length) {
          this.buffer = Buffer.allocUnsafe(this.buffer.length * 2);
          continue;
        }
        this.done = true;
        return [];
      }
      // The journal ends at the zero: whatever follows the last whole line before it is torn.
      if (zero !== -1) this.done = true;
      const lines: ReadLine[] = [];
      let start = 0;
      while (start <= lastNewline) {
        const nl = this.buffer.indexOf(10, start);
        const text = this.buffer.toString("utf8", start, nl);
        if (text !== "") lines.push({ text, end: this.position + nl + 1 });
        start = nl + 1;
      }
      this.position += lastNewline + 1;
      // Back to the usual window once a long line has passed.
      if (this.buffer.length > CHUNK_BYTES) this.buffer = Buffer.allocUnsafe(CHUNK_BYTES);
      return lines;
    }
  }

  async close(): Promise<void> {
    const handle = this.handle;
    this.handle = null;
    await handle?.close();
  }
}

/** A journal line, or null when it is not valid JSON (a torn write). */
export function parseJournalLine(text: string): JournalLine | null {
  try {
    return JSON.parse(text) as JournalLine;
  } catch {
    return null;
  }
}
