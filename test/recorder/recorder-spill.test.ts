import { mkdtempSync, rmSync, truncateSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Writable } from "node:stream";
import { afterEach, describe, expect, it } from "vitest";
import { openDatabase, type Db } from "../../server/db/open.ts";
import { sqliteClient } from "../../server/db/sqlite.ts";
import { createLogger } from "../../server/log.ts";
import { Journal, listSegments, segmentPath } from "../../server/recorder/journal.ts";
import { replayJournal } from "../../server/recorder/journal-replay.ts";
import { Recorder, type CallRecord } from "../../server/recorder/recorder.ts";
import { SpillBacklog } from "../../server/recorder/spill-backlog.ts";
import { makeCall } from "../factories.ts";

// The writer's memory cap with a real journal on disk and a real SQLite file that refuses writes
// (query_only): rows past the cap wait in the journal only and are read back from it, in order,
// once writes work again; and a dead process's journal is replayed a bounded chunk at a time.

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function setUp(): { db: Db; dir: string; journal: Journal } {
  const dir = mkdtempSync(join(tmpdir(), "tollbooth-spill-"));
  dirs.push(dir);
  // The smallest segments, so a few hundred rows span several of them.
  const journal = new Journal({ dir: join(dir, "journal"), segmentBytes: 64 * 1024 });
  return { db: openDatabase(join(dir, "t.db")), dir, journal };
}

/** A logger whose lines the test reads. */
function capturedLog() {
  const lines: string[] = [];
  const sink = new Writable({
    write(chunk, _enc, done) {
      lines.push(String(JSON.parse(String(chunk)).msg));
      done();
    },
  });
  return { log: createLogger("info", sink), lines };
}

/** A call of a few hundred bytes of body, so the rows fill several 64 KB segments. */
function record(i: number): CallRecord {
  return { call: makeCall({ createdAt: 1_700_000_000_000 + i }), bodies: { request: `{"n":${i},"pad":"${"x".repeat(400)}"}`, response: null, truncated: false } };
}

const storedIds = (db: Db) => (sqliteClient(db).prepare("SELECT request_id FROM calls ORDER BY id").all() as Array<{ request_id: string }>).map((r) => r.request_id);
const bodyCount = (db: Db) => (sqliteClient(db).prepare("SELECT count(*) AS n FROM call_bodies").get() as { n: number }).n;

describe("recorder memory cap: rows past it wait in the journal only", () => {
  it("holds at most the cap in memory while writes fail, then writes every row once, in order, from memory and the journal", async () => {
    const { db, dir, journal } = setUp();
    const { log, lines } = capturedLog();
    const commits: number[] = [];
    const CAP = 25;
    const recorder = new Recorder(db, {
      batchSize: 10,
      flushMs: 60_000,
      log,
      onCommitted: (n) => commits.push(n),
      spill: { maxRows: CAP, segmentPath: (n) => segmentPath(join(dir, "journal"), journal.owner, n) },
    });
    sqliteClient(db).pragma("query_only = ON"); // every write fails with SQLITE_READONLY
    const sent: CallRecord[] = [];
    for (let i = 0; i < 400; i++) {
      const rec = record(i);
      // Call starts between the rows, as the proxy journals them: reading back must skip them.
      const start = journal.start({ requestId: `start-${i}`, createdAt: rec.call.createdAt, model: null, endpoint: "/v1/chat/completions", stream: false, keyId: null, team: null, project: null, user: null });
      const ref = journal.end(rec, start);
      // Two rows whose journal append "failed" (no place): they are kept in memory, in their turn.
      if (i === 100 || i === 250) recorder.enqueue(rec);
      else recorder.enqueue(rec, ref.end.n, ref.at);
      sent.push(rec);
      if (i % 50 === 0) expect(await recorder.flush(true)).toBe(false);
      expect(recorder.pending).toBeLessThanOrEqual(CAP);
    }
    expect(listSegments(join(dir, "journal")).get(journal.owner)!.length).toBeGreaterThan(3);
    expect(recorder.pending).toBe(CAP);
    expect(recorder.journalOnly).toBe(400 - CAP);
    expect(lines.filter((l) => l.includes("wait in the journal only"))).toHaveLength(1);

    sqliteClient(db).pragma("query_only = OFF");
    expect(await recorder.flush(true)).toBe(true);
    expect(recorder.pending).toBe(0);
    expect(recorder.journalOnly).toBe(0);
    expect(recorder.peakPending).toBeLessThanOrEqual(CAP);
    // Every row once, in the order it was enqueued, with its body; commits reported for all of them.
    expect(storedIds(db)).toEqual(sent.map((r) => r.call.requestId));
    expect(bodyCount(db)).toBe(400);
    expect(commits.reduce((a, b) => a + b, 0)).toBe(400);
    expect(lines.filter((l) => l.includes("waited in the journal only are committed"))).toHaveLength(1);
    await journal.close();
    await db.close();
  });

  it("goes back to memory once drained, and spills again (logging again) at the next outage", async () => {
    const { db, dir, journal } = setUp();
    const { log, lines } = capturedLog();
    const recorder = new Recorder(db, { batchSize: 5, flushMs: 60_000, log, spill: { maxRows: 10, segmentPath: (n) => segmentPath(join(dir, "journal"), journal.owner, n) } });
    const enqueue = (i: number) => {
      const rec = record(i);
      const ref = journal.end(rec, null);
      recorder.enqueue(rec, ref.end.n, ref.at);
    };
    for (let round = 0; round < 2; round++) {
      sqliteClient(db).pragma("query_only = ON");
      for (let i = 0; i < 30; i++) enqueue(round * 100 + i);
      expect(await recorder.flush(true)).toBe(false);
      expect(recorder.journalOnly).toBe(20);
      sqliteClient(db).pragma("query_only = OFF");
      expect(await recorder.flush(true)).toBe(true);
      // Drained: the next rows are held in memory again.
      enqueue(round * 100 + 50);
      expect(recorder.journalOnly).toBe(0);
      expect(recorder.pending).toBe(1);
      expect(await recorder.flush(true)).toBe(true);
    }
    expect(storedIds(db)).toHaveLength(62);
    expect(lines.filter((l) => l.includes("wait in the journal only"))).toHaveLength(2);
    expect(lines.filter((l) => l.includes("waited in the journal only are committed"))).toHaveLength(2);
    await journal.close();
    await db.close();
  });
});

describe("spilled rows that cannot be read back", () => {
  it("are given up with an error once the rows before them committed, so the commits counted by the journal stay in order and nothing stalls", async () => {
    const { db, dir, journal } = setUp();
    const { log, lines } = capturedLog();
    const commits: number[] = [];
    const recorder = new Recorder(db, {
      batchSize: 10,
      flushMs: 60_000,
      log,
      onCommitted: (n) => commits.push(n),
      spill: { maxRows: 20, segmentPath: (n) => segmentPath(join(dir, "journal"), journal.owner, n) },
    });
    sqliteClient(db).pragma("query_only = ON");
    const sent: CallRecord[] = [];
    const segmentOf: number[] = [];
    for (let i = 0; i < 300; i++) {
      const rec = record(i);
      const ref = journal.end(rec, null);
      recorder.enqueue(rec, ref.end.n, ref.at);
      sent.push(rec);
      segmentOf.push(ref.end.n);
    }
    expect(await recorder.flush(true)).toBe(false);
    // Someone empties a segment holding spilled rows (the 100th row's).
    const wiped = segmentOf[100]!;
    truncateSync(segmentPath(join(dir, "journal"), journal.owner, wiped), 0);
    const lostRows = segmentOf.filter((n, i) => n === wiped && i >= 20).length;
    sqliteClient(db).pragma("query_only = OFF");
    expect(await recorder.flush(true)).toBe(true);
    expect(recorder.journalOnly).toBe(0);
    expect(commits.reduce((a, b) => a + b, 0)).toBe(300);
    expect(storedIds(db)).toEqual(sent.filter((_, i) => segmentOf[i] !== wiped || i < 20).map((r) => r.call.requestId));
    expect(lines.filter((l) => l.includes("could not be read back"))).toEqual([expect.stringContaining(`${lostRows} call row(s)`)]);
    await journal.close();
    await db.close();
  });
});

describe("replaying a dead process's journal", () => {
  it("hands its rows over a bounded chunk at a time, in journal order, then an interrupted row per start without an end", async () => {
    const { dir, journal } = setUp();
    const ends: string[] = [];
    for (let i = 0; i < 300; i++) {
      const rec = record(i);
      const start = journal.start({ requestId: rec.call.requestId, createdAt: rec.call.createdAt, model: null, endpoint: "/v1/chat/completions", stream: false, keyId: null, team: null, project: null, user: null });
      // Every tenth call never ends: the process died with it in flight.
      if (i % 10 === 9) continue;
      journal.end(rec, start);
      ends.push(rec.call.requestId);
    }
    // Left as a killed process leaves it: nothing committed, every segment on disk.
    const segments = listSegments(join(dir, "journal")).get(journal.owner)!;
    expect(segments.length).toBeGreaterThan(3);
    const chunks: CallRecord[][] = [];
    const result = await replayJournal(segments, 32, async (records) => {
      chunks.push([...records]);
      return true;
    });
    expect(result).toEqual({ rows: 300, interrupted: 30 });
    expect(Math.max(...chunks.map((c) => c.length))).toBeLessThanOrEqual(32);
    const all = chunks.flat();
    expect(all.slice(0, ends.length).map((r) => r.call.requestId)).toEqual(ends);
    expect(all.slice(ends.length).every((r) => r.call.errorType === "interrupted")).toBe(true);
    expect(new Set(all.map((r) => r.call.requestId)).size).toBe(300);

    // A write that fails stops the replay (the files stay for the next attempt).
    let calls = 0;
    expect(await replayJournal(segments, 32, async () => ++calls < 3)).toBeNull();
    expect(calls).toBe(3);
    await journal.close();
  });
});

describe("the spill backlog's count of rows", () => {
  it("stays the number of rows it holds when rows join the stretch being read back (the count once grew by each, and /healthz showed rows waiting forever)", async () => {
    const { dir, journal } = setUp();
    const backlog = new SpillBacklog((n) => segmentPath(join(dir, "journal"), journal.owner, n), capturedLog().log);
    const sent: CallRecord[] = [];
    const add = (i: number) => {
      const rec = record(i);
      const ref = journal.end(rec, null);
      backlog.add(rec, ref.end.n, ref.at);
      sent.push(rec);
    };
    for (let i = 0; i < 5; i++) add(i);
    const taking = backlog.take(100, true);
    add(5); // while the take waits on the segment file: the same stretch grows
    const { records, lost } = await taking;
    expect(lost).toBe(0);
    expect(records.map((r) => r.call.requestId)).toEqual(sent.map((r) => r.call.requestId));
    expect(backlog.rows).toBe(0);
    add(6);
    expect(backlog.rows).toBe(1);
    expect((await backlog.take(100, true)).records.map((r) => r.call.requestId)).toEqual([sent[6]!.call.requestId]);
    expect(backlog.rows).toBe(0);
    await journal.close();
  });
});
