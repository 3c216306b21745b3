import cron from "node-cron";
import { describe, expect, it } from "vitest";
import { loadFigures, type Sample } from "../../bench/contention-report.ts";
import { rollupCronDuring } from "../../bench/contention-requests.ts";

// The contention benchmark's two calculations that could quietly misreport: where the rollup's
// ticks land, and the proxied figures (a stall, a failed call) of a phase.

describe("rollupCronDuring", () => {
  const seconds = (expr: string) => expr.split(" ")[0]!.split(",").map(Number);

  it("ticks every `every` seconds from one second into the phase, and never outside it", () => {
    const start = Date.parse("2026-11-30T07:00:10.400Z");
    const expr = rollupCronDuring(start, 20, 2);
    expect(cron.validate(expr)).toBe(true);
    expect(seconds(expr)).toEqual([11, 13, 15, 17, 19, 21, 23, 25, 27, 29]);
  });

  it("wraps past the minute", () => {
    const expr = rollupCronDuring(Date.parse("2026-11-30T07:00:52.000Z"), 12, 3);
    expect(seconds(expr)).toEqual([2, 53, 56, 59]);
  });
});

describe("loadFigures", () => {
  const result = { completed: 4, failed: 1, seconds: 10, rps: 0.4 };
  // Four answers and one call that failed after 6 s; no answer from t=1,010 until t=9,000.
  const samples: Sample[] = [
    { at: 0, ms: 10, ok: true },
    { at: 1000, ms: 10, ok: true },
    { at: 1010, ms: 6000, ok: false },
    { at: 1010, ms: 7990, ok: true },
    { at: 9000, ms: 5, ok: true },
  ];

  it("counts the longest gap between answers, not a failure as an answer", () => {
    expect(loadFigures(result, samples).stallMs).toBe(7990);
  });

  it("includes failed calls in the latencies", () => {
    const f = loadFigures(result, samples);
    expect(f.max).toBe(7990);
    expect(f.p50).toBe(10);
    expect(loadFigures(result, samples.slice(0, 3)).max).toBe(6000);
  });
});
