import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { openDatabase, type Db } from "../../server/db/open.ts";
import { Recorder } from "../../server/recorder/recorder.ts";
import { createLogger } from "../../server/log.ts";
import { makeCall } from "../factories.ts";
import { sqliteClient } from "../../server/db/sqlite.ts";

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function tempDb(): { db: Db; dir: string } {
  const dir = mkdtempSync(join(tmpdir(), "tollbooth-recorder-"));
  dirs.push(dir);
  return { db: openDatabase(join(dir, "t.db")), dir };
}

const log = createLogger("silent");
const count = (db: Db) => (sqliteClient(db).prepare("SELECT count(*) AS n FROM calls").get() as { n: number }).n;

describe("recorder: rows leave the queue only after they are committed", () => {
  it("keeps rows while SQLite refuses writes and writes them once it accepts again", async () => {
    const { db } = tempDb();
    const recorder = new Recorder(db, { batchSize: 100, flushMs: 1000, log });
    for (let i = 0; i < 250; i++) recorder.enqueue({ call: makeCall() });
    sqliteClient(db).pragma("query_only = ON"); // every write now fails with SQLITE_READONLY
    expect(await recorder.flush(true)).toBe(false);
    expect(recorder.pending).toBe(250);
    sqliteClient(db).pragma("query_only = OFF");
    expect(await recorder.flush(true)).toBe(true);
    expect(recorder.pending).toBe(0);
    expect(count(db)).toBe(250);
  });

  it("reports each commit in order, so the journal can let go of exactly those rows", async () => {
    const { db } = tempDb();
    const commits: number[] = [];
    const recorder = new Recorder(db, { batchSize: 40, flushMs: 1000, log, onCommitted: (n) => commits.push(n) });
    for (let i = 0; i < 100; i++) recorder.enqueue({ call: makeCall() });
    sqliteClient(db).pragma("query_only = ON");
    expect(await recorder.flush(true)).toBe(false);
    expect(commits).toEqual([]);
    sqliteClient(db).pragma("query_only = OFF");
    expect(await recorder.flush(true)).toBe(true);
    expect(commits).toEqual([40, 40, 20]);
  });

  it("retries on the fresh connection onWriteFailure hands it", async () => {
    const { db, dir } = tempDb();
    let reopened = 0;
    const recorder = new Recorder(db, {
      batchSize: 10,
      flushMs: 1000,
      log,
      onWriteFailure: () => {
        reopened++;
        return openDatabase(join(dir, "t.db"));
      },
    });
    recorder.enqueue({ call: makeCall() });
    sqliteClient(db).pragma("query_only = ON"); // only this connection refuses writes
    expect(await recorder.flush(true)).toBe(false);
    expect(reopened).toBe(1);
    expect(await recorder.flush(true)).toBe(true);
    expect(count(db)).toBe(1);
  });

  it("never writes a call twice, even when a batch is replayed", async () => {
    const { db } = tempDb();
    const recorder = new Recorder(db, { batchSize: 10, flushMs: 1000, log });
    const call = makeCall();
    recorder.enqueue({ call });
    recorder.enqueue({ call: { ...call } });
    await recorder.flush(true);
    expect(count(db)).toBe(1);
  });

  it("writes each row once when flushes are asked for while one is running", async () => {
    const { db } = tempDb();
    const commits: number[] = [];
    const recorder = new Recorder(db, { batchSize: 100, flushMs: 1000, log, onCommitted: (n) => commits.push(n) });
    for (let i = 0; i < 250; i++) recorder.enqueue({ call: makeCall() });
    const first = recorder.flush(true);
    for (let i = 0; i < 50; i++) recorder.enqueue({ call: makeCall() });
    expect(await Promise.all([first, recorder.flush(true), recorder.flush()])).toEqual([true, true, true]);
    expect(recorder.pending).toBe(0);
    expect(count(db)).toBe(300);
    expect(commits.reduce((a, b) => a + b, 0)).toBe(300);
  });

  it("close() waits for calls still in flight", async () => {
    const { db } = tempDb();
    const recorder = new Recorder(db, { batchSize: 10, flushMs: 1000, log });
    recorder.beginCall();
    setTimeout(() => recorder.endCall({ call: makeCall() }), 100);
    await recorder.close(2_000);
    expect(count(db)).toBe(1);
  });
});
