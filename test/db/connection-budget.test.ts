import { describe, expect, it } from "vitest";
import { connectionBudget } from "../../server/db/connection-budget.ts";

// PG_POOL_MAX is the most connections one process holds: the threads' shares add up to it, never
// more, each thread gets at least one, and the recorder gets its second before anyone else.

describe("connectionBudget", () => {
  it("splits PG_POOL_MAX so the shares add up to it, every thread has one and the recorder two when it can", () => {
    for (let readers = 1; readers <= 4; readers++) {
      for (let total = readers + 3; total <= 40; total++) {
        const b = connectionBudget({ PG_POOL_MAX: total, READER_THREADS: readers });
        expect(b.serving + b.recorder + b.writerJobs + b.perReader * readers, `${total}/${readers}`).toBe(total);
        expect(Math.min(b.serving, b.recorder, b.writerJobs, b.perReader)).toBeGreaterThanOrEqual(1);
        expect(b.recorder).toBe(total > readers + 3 ? 2 : 1);
        expect(b.writerJobs).toBeGreaterThanOrEqual(b.perReader);
      }
    }
    expect(connectionBudget({ PG_POOL_MAX: 10, READER_THREADS: 2 })).toEqual({ serving: 1, recorder: 2, writerJobs: 3, perReader: 2 });
  });

  it("refuses a PG_POOL_MAX that cannot give every thread a connection, naming both settings", () => {
    expect(() => connectionBudget({ PG_POOL_MAX: 4, READER_THREADS: 2 })).toThrow(/^PG_POOL_MAX=4 is too small: with READER_THREADS=2 one process needs at least 5/);
  });
});
