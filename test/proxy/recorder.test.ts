import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { openDatabase, type Db } from "../../server/db/open.ts";
import { Recorder } from "../../server/recorder/recorder.ts";
import { createLogger } from "../../server/log.ts";
import { makeCall } from "../factories.ts";

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
const count = (db: Db) => (db.$client.prepare("SELECT count(*) AS n FROM calls").get() as { n: number }).n;

describe("recorder: rows leave the queue only after they are committed", () => {
  it("keeps rows while SQLite refuses writes and writes them once it accepts again", () => {
    const { db } = tempDb();
    const recorder = new Recorder(db, { batchSize: 100, flushMs: 1000, spillPath: null, log });
    for (let i = 0; i < 250; i++) recorder.enqueue({ call: makeCall() });
    db.$client.pragma("query_only = ON"); // every write now fails with SQLITE_READONLY
    expect(recorder.flush(true)).toBe(false);
    expect(recorder.pending).toBe(250);
    db.$client.pragma("query_only = OFF");
    expect(recorder.flush(true)).toBe(true);
    expect(recorder.pending).toBe(0);
    expect(count(db)).toBe(250);
  });

  it("spills to disk past maxQueued and replays the spill on the next start", async () => {
    const { db, dir } = tempDb();
    const spillPath = join(dir, "spill.jsonl");
    const first = new Recorder(db, { batchSize: 50, flushMs: 1000, spillPath, maxQueued: 100, log });
    db.$client.pragma("query_only = ON");
    for (let i = 0; i < 300; i++) first.enqueue({ call: makeCall() });
    first.flush(true);
    expect(existsSync(spillPath)).toBe(true);
    expect(first.pending).toBeLessThanOrEqual(100);
    await first.close(50); // cannot write: everything left goes to the spill file
    expect(first.pending).toBe(0);
    db.$client.pragma("query_only = OFF");

    const second = new Recorder(db, { batchSize: 50, flushMs: 1000, spillPath, log });
    second.start();
    expect(second.flush(true)).toBe(true);
    expect(count(db)).toBe(300);
    expect(existsSync(spillPath)).toBe(false);
    await second.close();
  });

  it("never writes a call twice, even when a batch is replayed", () => {
    const { db } = tempDb();
    const recorder = new Recorder(db, { batchSize: 10, flushMs: 1000, spillPath: null, log });
    const call = makeCall();
    recorder.enqueue({ call });
    recorder.enqueue({ call: { ...call } });
    recorder.flush(true);
    expect(count(db)).toBe(1);
  });

  it("close() waits for calls still in flight", async () => {
    const { db } = tempDb();
    const recorder = new Recorder(db, { batchSize: 10, flushMs: 1000, spillPath: null, log });
    recorder.beginCall();
    setTimeout(() => recorder.endCall({ call: makeCall() }), 100);
    await recorder.close(2_000);
    expect(count(db)).toBe(1);
  });
});
