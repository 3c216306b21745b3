import { readFileSync, rmSync, statSync } from "node:fs";
import { join } from "node:path";
import { isAlive } from "../process-alive.ts";
import { OWNER_HEARTBEAT_MS, listSegments } from "./journal.ts";
import { interruptedRow, type CallStartRecord, type JournalLine } from "./journal-format.ts";
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
 * The rows a dead owner's segments hold: every finished row, plus an interrupted row for each
 * start without an end. A torn last line (the crash hit mid-write) is skipped; its call's start,
 * written earlier, still makes it an interrupted row.
 */
export function readJournal(segments: string[]): { records: CallRecord[]; interrupted: number } {
  const starts = new Map<string, CallStartRecord>();
  const ends = new Map<string, CallRecord>();
  for (const path of segments) {
    let text: string;
    try {
      text = readFileSync(path, "utf8");
    } catch {
      continue;
    }
    // Segments are preallocated with zeros: the journal ends at the first one.
    const end = text.indexOf("\0");
    for (const line of (end === -1 ? text : text.slice(0, end)).split("\n")) {
      if (line === "") continue;
      let parsed: JournalLine;
      try {
        parsed = JSON.parse(line) as JournalLine;
      } catch {
        continue;
      }
      if ("s" in parsed) starts.set(parsed.s.requestId, parsed.s);
      else ends.set(parsed.e.call.requestId, parsed.e);
    }
  }
  const records = [...ends.values()];
  let interrupted = 0;
  for (const [id, start] of starts) {
    if (ends.has(id)) continue;
    records.push(interruptedRow(start));
    interrupted++;
  }
  records.sort((a, b) => a.call.createdAt - b.call.createdAt);
  return { records, interrupted };
}

/** Remove a replayed owner's files (only after its rows committed). */
export function removeOwner(dir: string, owner: string, segments: string[]): void {
  for (const path of segments) rmSync(path, { force: true });
  rmSync(join(dir, `${owner}.owner`), { force: true });
}
