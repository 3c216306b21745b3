import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { Journal } from "../../server/recorder/journal.ts";
import { JournaledRecorder, type RowSink } from "../../server/recorder/journaled-recorder.ts";
import type { CallRecord } from "../../server/recorder/recorder.ts";
import { makeCall } from "../factories.ts";

// The serving thread's side of the recorder: rows are journaled at once and handed to the writer
// thread in deliveries. Each delivery wakes the writer thread, so a steady trickle of calls must
// go over in one delivery per postMs, not one per call. The sink here stands in for the writer
// thread's handle and only records what it was handed.

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function rig(opts: { batchSize: number; postMs?: number }) {
  const dir = mkdtempSync(join(tmpdir(), "tollbooth-journaled-"));
  dirs.push(dir);
  const journal = new Journal({ dir, fsync: false, segmentBytes: 1 << 20 });
  const deliveries: CallRecord[][] = [];
  const sink: RowSink = { post: (rows) => deliveries.push(rows), flush: async () => true };
  return { recorder: new JournaledRecorder(journal, sink, opts), deliveries, journal };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe("JournaledRecorder deliveries to the writer thread", () => {
  it("hands a steady trickle over once per postMs, every row once and in order", async () => {
    const { recorder, deliveries, journal } = rig({ batchSize: 500, postMs: 50 });
    const sent: string[] = [];
    for (let i = 0; i < 40; i++) {
      const call = makeCall();
      sent.push(call.requestId);
      recorder.enqueue({ call });
      await sleep(5); // a call every 5 ms: each on its own turn of the event loop
    }
    await sleep(80);
    expect(deliveries.flat().map((r) => r.call.requestId)).toEqual(sent);
    // ~200 ms of calls at one delivery per 50 ms; one per call would be 40.
    expect(deliveries.length).toBeLessThanOrEqual(6);
    await journal.close();
  });

  it("hands a whole batch over at once, and everything at flushed()", async () => {
    const { recorder, deliveries, journal } = rig({ batchSize: 3, postMs: 60_000 });
    for (let i = 0; i < 4; i++) recorder.enqueue({ call: makeCall() });
    expect(deliveries.map((d) => d.length)).toEqual([3]);
    await recorder.flushed();
    expect(deliveries.map((d) => d.length)).toEqual([3, 1]);
    await journal.close();
  });
});
