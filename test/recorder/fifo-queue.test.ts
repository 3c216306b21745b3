import { describe, expect, it } from "vitest";
import { FifoQueue } from "../../server/recorder/fifo-queue.ts";

// The recorder's queues (uncommitted runs, spill backlog) rely on it keeping order and length
// through the cut of its taken front, which happens only past 1,024 taken items.

describe("FifoQueue", () => {
  it("gives items back in the order they came, across many cuts of the taken front", () => {
    const q = new FifoQueue<number>();
    const taken: number[] = [];
    let next = 0;
    // Push 3, take 2, over and over: the queue grows slowly while its front is cut many times.
    for (let round = 0; round < 5_000; round++) {
      for (let i = 0; i < 3; i++) q.push(next++);
      for (let i = 0; i < 2; i++) taken.push(q.shift()!);
      expect(q.length).toBe(round + 1);
      expect(q.first()).toBe(taken.length);
      expect(q.last()).toBe(next - 1);
    }
    while (q.length > 0) taken.push(q.shift()!);
    expect(taken).toEqual(Array.from({ length: next }, (_, i) => i));
  });

  it("is empty, with nothing first or last, before any push and after the last shift", () => {
    const q = new FifoQueue<string>();
    expect([q.length, q.first(), q.last(), q.shift()]).toEqual([0, undefined, undefined, undefined]);
    q.push("a");
    q.push("b");
    expect([q.first(), q.last()]).toEqual(["a", "b"]);
    expect([q.shift(), q.shift(), q.shift()]).toEqual(["a", "b", undefined]);
    expect([q.length, q.first(), q.last()]).toEqual([0, undefined, undefined]);
  });
});
