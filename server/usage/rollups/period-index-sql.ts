// The usage query's period of a raw call (the fresh tail, calls past the rollup watermark) as
// arithmetic on created_at, so the tail is one pass over its calls. Joining calls to a list of
// periods costs calls × periods (52k calls × 2,160 hours of a 90-day hourly query took 12 s);
// this costs a few comparisons per call whatever the number of periods.
//
// Periods are contiguous, so they fall into runs of equal length ("segments"): a UTC hourly or
// daily range is one run (plus its clipped first and last periods), a zone with DST adds a run
// per change, months make a run per distinct length. Within a run starting at s with length L,
// the period of t is first + (t - s) / L in integer division (t >= s, so it rounds down). The run
// is picked by a balanced tree of CASE WHEN t < start: log2(runs) comparisons, 11 for 2,500
// months. Plain SQL with a direct PostgreSQL twin (integer division of non-negative bigints).

export interface PeriodBounds {
  start: number;
  end: number;
}

/** A run of consecutive periods of one length: periods first … first + count - 1. */
export interface PeriodRun {
  start: number;
  length: number;
  first: number;
  count: number;
}

/** `periods` (contiguous, in order) as runs of equal length. */
export function periodRuns(periods: readonly PeriodBounds[]): PeriodRun[] {
  const runs: PeriodRun[] = [];
  periods.forEach((period, p) => {
    const length = period.end - period.start;
    const last = runs.at(-1);
    if (last && last.length === length && last.start + last.count * length === period.start) last.count++;
    else runs.push({ start: period.start, length, first: p, count: 1 });
  });
  return runs;
}

/** An integer we computed (a boundary, a length, an index), written into the SQL text. */
function int(n: number): string {
  if (!Number.isSafeInteger(n)) throw new Error(`not a safe integer: ${n}`);
  return String(n);
}

/**
 * SQL for the index in `periods` of the period holding `column` (an integer instant that the
 * query's WHERE keeps inside [periods[0].start, last end)). Periods must be contiguous and in
 * order, as periodsBetween gives them.
 */
export function periodIndexSql(periods: readonly PeriodBounds[], column = "created_at"): string {
  const runs = periodRuns(periods);
  if (runs.length === 0) throw new Error("no periods");
  const tree = (lo: number, hi: number): string => {
    if (hi - lo === 1) {
      const run = runs[lo]!;
      return run.count === 1 ? int(run.first) : `(${int(run.first)} + (${column} - ${int(run.start)}) / ${int(run.length)})`;
    }
    const mid = (lo + hi) >> 1;
    return `(CASE WHEN ${column} < ${int(runs[mid]!.start)} THEN ${tree(lo, mid)} ELSE ${tree(mid, hi)} END)`;
  };
  return tree(0, runs.length);
}
