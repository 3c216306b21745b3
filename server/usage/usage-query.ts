import type { Db } from "../db/database.ts";
import { CALENDAR_UNITS, periodsBetween, type CalendarUnit } from "../time.ts";
import type { DimensionColumn } from "./rollups/bucket-row-sql.ts";
import { RETENTION_HORIZON, readState } from "../job-runs/job-state.ts";
import { splitInstantRange } from "./instant-range.ts";
import { readAggregates, type AggregateRow, type UsageFilter } from "./usage-sql.ts";
import { readAggregatesPostgres } from "./postgres/read-aggregates.ts";

// GET /api/usage: totals over [from, to) split by up to two of calendar period (in `tz`) and
// dimension. Money and counts stay BigInt here; usage-json.ts formats them.

/** group_by names → rollup_every_dim_15m columns. */
export const DIMENSIONS = {
  model: "model",
  key: "key_id",
  team: "team",
  project: "project",
  user: "user",
  status: "status_class",
} as const satisfies Record<string, DimensionColumn>;
export type DimensionKey = keyof typeof DIMENSIONS;
export type GroupKey = DimensionKey | CalendarUnit;
export const GROUP_KEYS = [...Object.keys(DIMENSIONS), ...CALENDAR_UNITS] as GroupKey[];

/**
 * Each dimension in a breakdown keeps its TOP_N values by cost over the whole range and folds
 * the rest into one "(other)" row, so a storm of keys (LiteLLM #42689) cannot blow up the answer:
 * at most (TOP_N + 1)² rows per period. MAX_PERIODS bounds the calendar side (2,500 hours ≈ 104
 * days; 2,500 days ≈ 6.8 years).
 */
export const TOP_N = 20;
export const MAX_PERIODS = 2_500;
export const OTHER_LABEL = "(other)";

export interface UsageParams {
  from: number;
  to: number;
  tz: string;
  groupBy: GroupKey[];
  /** Only calls of this team / project / model (absent = all calls). */
  filter?: UsageFilter;
}

export interface Measures {
  requests: bigint;
  errors: bigint;
  promptTokens: bigint;
  completionTokens: bigint;
  costNano: bigint;
  unpricedRequests: bigint;
  /** Sum of the calls' durations (ms): with requests, the average latency. */
  durationMsSum: bigint;
}

export interface UsageRow extends Measures {
  /** Keys in group_by order; null = the call had no value (no team header, no model…). */
  group: Record<string, string | null>;
  /** True when a dimension value in `group` is the folded "(other)". */
  other: boolean;
  periodIndex: number;
}

export interface UsageReport extends UsageParams {
  /** from/to were rounded outward to a bucket edge whose raw calls retention has deleted. */
  rounded: boolean;
  rows: UsageRow[];
  totals: Measures;
}

export function isCalendarUnit(key: GroupKey): key is CalendarUnit {
  return (CALENDAR_UNITS as readonly string[]).includes(key);
}

/**
 * How the calls past the watermark are summed: from the per-connection cache (the default), or
 * from raw calls in SQL ("scan", what the cache falls back to; tests compare the two).
 */
export type TailMode = "cache" | "scan";

export async function queryUsage(db: Db, params: UsageParams, tailMode: TailMode = "cache"): Promise<UsageReport> {
  const unit = params.groupBy.find(isCalendarUnit) ?? null;
  const dimKeys = params.groupBy.filter((k): k is DimensionKey => !isCalendarUnit(k));
  // Raw calls before the retention horizon may be gone: an unaligned edge there is rounded out.
  const answered = splitInstantRange(params, await readState(db, RETENTION_HORIZON));
  const periods = periodsBetween(unit, answered.from, answered.to, params.tz, MAX_PERIODS);

  const read = db.dialect === "postgres" ? readAggregatesPostgres : readAggregates;
  const aggregated = await read(db, {
    from: answered.from,
    to: answered.to,
    innerFrom: answered.innerFrom,
    innerTo: answered.innerTo,
    periods,
    columns: dimKeys.map((key) => DIMENSIONS[key]),
    filter: params.filter ?? {},
    topN: TOP_N,
    cachedTail: tailMode === "cache",
  });

  const rows = aggregated.map((r) => toRow(r, params.groupBy, unit, dimKeys, periods));
  rows.sort(compareUsageRows);
  return { ...params, from: answered.from, to: answered.to, rounded: answered.rounded, rows, totals: sumMeasures(rows) };
}

function toRow(r: AggregateRow, groupBy: GroupKey[], unit: CalendarUnit | null, dimKeys: DimensionKey[], periods: { label: string | null }[]): UsageRow {
  const periodIndex = Number(r.p);
  const group: Record<string, string | null> = {};
  let other = false;
  for (const key of groupBy) {
    if (key === unit) {
      group[key] = periods[periodIndex]!.label;
      continue;
    }
    const value = dimKeys.indexOf(key as DimensionKey) === 0 ? r.g0 : r.g1;
    if (value === null || value === undefined) other = true;
    group[key] = value === null || value === undefined ? OTHER_LABEL : value === "" ? null : value;
  }
  return {
    group,
    other,
    periodIndex,
    requests: r.requests,
    errors: r.errors,
    promptTokens: r.prompt_tokens,
    completionTokens: r.completion_tokens,
    costNano: r.cost_nano,
    unpricedRequests: r.unpriced_requests,
    durationMsSum: r.duration_ms_sum,
  };
}

// Periods in time order; within one, the biggest spend first and "(other)" last.
export function compareUsageRows(a: UsageRow, b: UsageRow): number {
  if (a.periodIndex !== b.periodIndex) return a.periodIndex - b.periodIndex;
  if (a.other !== b.other) return a.other ? 1 : -1;
  if (a.costNano !== b.costNano) return a.costNano > b.costNano ? -1 : 1;
  if (a.requests !== b.requests) return a.requests > b.requests ? -1 : 1;
  const ka = JSON.stringify(Object.values(a.group));
  const kb = JSON.stringify(Object.values(b.group));
  return ka < kb ? -1 : ka > kb ? 1 : 0;
}

export function zeroMeasures(): Measures {
  return { requests: 0n, errors: 0n, promptTokens: 0n, completionTokens: 0n, costNano: 0n, unpricedRequests: 0n, durationMsSum: 0n };
}

export function addMeasures(to: Measures, m: Measures): void {
  to.requests += m.requests;
  to.errors += m.errors;
  to.promptTokens += m.promptTokens;
  to.completionTokens += m.completionTokens;
  to.costNano += m.costNano;
  to.unpricedRequests += m.unpricedRequests;
  to.durationMsSum += m.durationMsSum;
}

export function sumMeasures(rows: Measures[]): Measures {
  const t = zeroMeasures();
  for (const r of rows) addMeasures(t, r);
  return t;
}
