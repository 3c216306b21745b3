import { rmSync, statSync } from "node:fs";
import { join } from "node:path";
import { isAlive } from "../process-alive.ts";
import { OWNER_HEARTBEAT_MS, listSegments } from "./journal.ts";
import { interruptedRow, type CallStartRecord } from "./journal-format.ts";
import { JournalLineReader, parseJournalLine } from "./journal-lines.ts";
import type { CallRecord } from "./recorder.ts";

/** An owner whose heartbeat is this old is dead even if its pid now belongs to someone else. */
const STALE_OWNER_MS = 10 * OWNER_HEARTBEAT_MS;
const PROCESS_STARTED_AT = Date.now() - process.uptime() * 1000;


/**
 * Journals left by processes that are gone: their pid is not running, is ours from before this
 * process started (a container restarts as the same pid), or their heartbeat stopped. A live instance sharing the folder
 * keeps its own.
 */
export function recoverableOwners(dir: string, liveOwner: string | null, now = Date.now()): Map<string, string[]> {
  const found = listSegments(dir);
  for (const owner of [...found.keys()]) {
    if (owner === liveOwner) {
      found.delete(owner);
      continue;
    }
    const [pid, startedAt] = owner.split("-").map(Number) as [number, number];
    let beat = 0;
    try {
      beat = statSync(join(dir, `${owner}.owner`)).mtimeMs;
    } catch {
      beat = 0;
    }
    // Our own pid with a start before this process began: a container restarted as the same pid.
    // (Our pid with a later start is another server in this same process, e.g. in tests.)
    const earlierSelf = pid === process.pid && startedAt < PROCESS_STARTED_AT;
    const dead = earlierSelf || (pid !== process.pid && !isAlive(pid)) || now - beat > STALE_OWNER_MS;
    if (!dead) found.delete(owner);
  }
  return found;
}

/**
 * Replay the rows a dead owner's segments hold through `write`, at most `maxRows` at a time, so
 * a journal of any size (a long outage, then a crash) is never in memory at once: every finished
 * row in journal order, then an interrupted row for each start without an end. A torn last line
 * (the crash hit mid-write) is skipped; its call's start, written earlier, still makes it an
 * interrupted row. An end always comes after its start in the journal (one thread appends both),
 * so only calls still open at that point of the journal are remembered.
 * Returns the counts, or null as soon as a write fails: the files stay, and the next attempt
 * starts over (rows that did commit are written as nothing, by request_id).
 */
export async function replayJournal(
  segments: string[],
  maxRows: number,
  write: (records: CallRecord[]) => Promise<boolean>,
): Promise<{ rows: number; interrupted: number } | null> {
  const starts = new Map<string, CallStartRecord>();
  let pending: CallRecord[] = [];
  let rows = 0;
  const writePending = async (): Promise<boolean> => {
    if (pending.length === 0) return true;
    if (!(await write(pending))) return false;
    rows += pending.length;
    pending = [];
    return true;
  };
  for (const path of segments) {
    let reader: JournalLineReader;
    try {
      reader = await JournalLineReader.open(path);
    } catch {
      continue; // removed meanwhile (another instance replayed it)
    }
    try {
      for (let lines = await reader.next(); lines.length > 0; lines = await reader.next()) {
        for (const { text } of lines) {
          const line = parseJournalLine(text);
          if (line === null) continue;
          if ("s" in line) {
            starts.set(line.s.requestId, line.s);
            continue;
          }
          starts.delete(line.e.call.requestId);
          pending.push(line.e);
          if (pending.length >= maxRows && !(await writePending())) return null;
        }
      }
    } finally {
      await reader.close();
    }
  }
  const interrupted = starts.size;
  for (const start of starts.values()) {
    pending.push(interruptedRow(start));
    if (pending.length >= maxRows && !(await writePending())) return null;
  }
  if (!(await writePending())) return null;
  return { rows, interrupted };
}

/** Remove a replayed owner's files (only after its rows committed). */
export function removeOwner(dir: string, owner: string, segments: string[]): void {
  for (const path of segments) rmSync(path, { force: true });
  rmSync(join(dir, `${owner}.owner`), { force: true });
}
