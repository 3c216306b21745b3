import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { Journal, listSegments, segmentPath } from "../../server/recorder/journal.ts";
import { JournaledRecorder } from "../../server/recorder/journaled-recorder.ts";
import type { CallRecord } from "../../server/recorder/recorder.ts";
import type { JournalLine } from "../../server/recorder/journal-format.ts";
import { makeCall } from "../factories.ts";

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function tempJournal(): { journal: Journal; dir: string } {
  const dir = join(mkdtempSync(join(tmpdir(), "tollbooth-journal-")), "journal");
  dirs.push(dirname(dir));
  // The smallest segments, so a few thousand rows span many of them.
  return { journal: new Journal({ dir, segmentBytes: 64 * 1024 }), dir };
}

const dirname = (path: string) => path.slice(0, path.lastIndexOf("/"));

function record(i: number): CallRecord {
  return { call: makeCall({ createdAt: 1_700_000_000_000 + i }), bodies: { request: `{"n":${i},"pad":"${"x".repeat(400)}"}`, response: null, truncated: false } };
}

/** Every finished row in the owner's segments, in file order (each segment up to its first zero byte). */
function endsOnDisk(dir: string, owner: string): string[] {
  const ids: string[] = [];
  for (const path of listSegments(dir).get(owner) ?? []) {
    const text = readFileSync(path, "utf8");
    const end = text.indexOf("\0");
    for (const line of (end === -1 ? text : text.slice(0, end)).split("\n")) {
      if (line === "") continue;
      const parsed = JSON.parse(line) as JournalLine;
      if ("e" in parsed) ids.push(parsed.e.call.requestId);
    }
  }
  return ids;
}

describe("journal segments", () => {
  it("closes only once the next segment, still being preallocated, is gone too, so the folder can be removed", async () => {
    // A large segment keeps the background preallocation running past close(); a folder removed
    // while it ran got a file back mid-removal (ENOTEMPTY) in a CI run.
    const dir = mkdtempSync(join(tmpdir(), "tollbooth-journal-"));
    dirs.push(dir);
    const journal = new Journal({ dir, segmentBytes: 64 * 1024 * 1024 });
    await journal.close();
    expect(readdirSync(dir)).toEqual([]);
    rmSync(dir, { recursive: true });
  });

  it("keeps every row, in order, when rows fill segments faster than the next one is preallocated", async () => {
    const { journal, dir } = tempJournal();
    const written: string[] = [];
    // One synchronous burst: the background preallocation of the next segment cannot finish in
    // between, so each rotation opens a segment on this thread while one is still being prepared.
    for (let i = 0; i < 2_000; i++) {
      const rec = record(i);
      journal.end(rec, null);
      written.push(rec.call.requestId);
    }
    expect(listSegments(dir).get(journal.owner)!.length).toBeGreaterThan(10);
    // Let the late preallocations finish: they must not land on a segment in use.
    await new Promise((r) => setTimeout(r, 500));
    expect(endsOnDisk(dir, journal.owner)).toEqual(written);
    await journal.close();
  });

  it("tells where each row's line starts, so a spilled row can be read back from its segment", async () => {
    const { journal, dir } = tempJournal();
    for (let i = 0; i < 500; i++) {
      const rec = record(i);
      const start = journal.start({ requestId: rec.call.requestId, createdAt: rec.call.createdAt, model: null, endpoint: "/v1/chat/completions", stream: false, keyId: null, team: null, project: null, user: null });
      const ref = journal.end(rec, start);
      const bytes = readFileSync(segmentPath(dir, journal.owner, ref.end.n));
      const line = bytes.toString("utf8", ref.at, bytes.indexOf(10, ref.at));
      expect((JSON.parse(line) as { e: CallRecord }).e.call.requestId).toBe(rec.call.requestId);
    }
    await journal.close();
  });

  it("holds one entry per stretch of a segment for the rows waiting to commit, not one per call, and frees every segment once they commit", async () => {
    const { journal, dir } = tempJournal();
    // The writer thread stands still (a database outage): rows are posted and never committed.
    let posted = 0;
    const recorder = new JournaledRecorder(journal, { post: (rows) => void (posted += rows.length), flush: async () => false }, { batchSize: 100 });
    for (let i = 0; i < 3_000; i++) {
      const rec = record(i);
      // Every other call is refused before it is forwarded (a key or budget check): it has no start line.
      const start =
        i % 2 === 0
          ? recorder.forwarding({ requestId: rec.call.requestId, createdAt: rec.call.createdAt, model: null, endpoint: "/v1/chat/completions", stream: false, keyId: null, team: null, project: null, user: null })
          : null;
      recorder.endCall(rec, start);
    }
    await new Promise((r) => setTimeout(r, 50));
    expect(posted).toBe(3_000);
    expect(recorder.pending).toBe(3_000);
    const segments = listSegments(dir).get(journal.owner)!.length;
    expect(segments).toBeGreaterThan(20);
    expect(recorder.heldRuns).toBeLessThanOrEqual(segments);
    // The database is back: commits come in order, in batches; every full segment goes.
    for (let i = 0; i < 30; i++) recorder.committed(100);
    expect(recorder.pending).toBe(0);
    expect(recorder.heldRuns).toBe(0);
    expect(listSegments(dir).get(journal.owner)!.length).toBeLessThanOrEqual(2); // the current one and the spare
    await journal.close();
  });
});
