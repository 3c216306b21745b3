import type Database from "better-sqlite3";
import type { Period } from "../time.ts";
import { BUCKET_START_SQL, DIMENSION_SQL, IS_ERROR_SQL, IS_UNPRICED_SQL, col, type DimensionColumn } from "./bucket-row-sql.ts";

// The SQLite-specific SQL of the usage query. Source rows are rollups (calls at or below the
// watermark) plus raw calls past the watermark, shaped alike, so an answer is fresh to the second
// and exact whatever the rollup has done so far. SQLite-only pieces: json_each for the top-N list
// and the unary `+` that keeps the planner off calls_created_idx for the tail.
//
// Rollup source: with at most one dimension and no filter, usage_dim_buckets (a few rows per
// bucket); otherwise usage_buckets (up to one row per distinct combination, so slower on
// high-cardinality data).

export interface UsageRange {
  from: number;
  to: number;
  watermark: number;
}

/** Only calls with these values (reports scoped to a team, project or model). */
export interface UsageFilter {
  team?: string;
  project?: string;
  model?: string;
}

export interface DimensionSpec {
  column: DimensionColumn;
  /** Values kept as themselves; every other value folds into one NULL ("other") group. null = keep all. */
  keep: string[] | null;
}

/** One aggregated row; measures are BigInt (read with safeIntegers), g0/g1 null = "other". */
export interface AggregateRow {
  p: bigint;
  g0?: string | null;
  g1?: string | null;
  requests: bigint;
  errors: bigint;
  prompt_tokens: bigint;
  completion_tokens: bigint;
  cost_nano: bigint;
  unpriced_requests: bigint;
}

const MEASURES = ["requests", "errors", "prompt_tokens", "completion_tokens", "cost_nano", "unpriced_requests"] as const;

// Per-call values of the measures for raw calls (the tail), in MEASURES order.
const TAIL_MEASURES = ["1", IS_ERROR_SQL, "COALESCE(prompt_tokens, 0)", "COALESCE(completion_tokens, 0)", "COALESCE(cost_nano, 0)", IS_UNPRICED_SQL];

// The tail is found by id (rowid range, small); `+created_at` stops SQLite from preferring the
// created_at index, which would scan the whole range instead of the few calls past the watermark.
const TAIL_WHERE = "id > :watermark AND +created_at >= :from AND +created_at < :to";

/**
 * Which rollup rows to read and how to name their dimension values. Each call appears once per
 * dimension in usage_dim_buckets, so with no dimension asked any one of them gives the totals:
 * status_class has the fewest values.
 */
function rollupSource(dims: DimensionColumn[], filter: UsageFilter): { table: string; where: string; dimExprs: string[] } {
  const filterCols = filterColumns(filter);
  if (dims.length <= 1 && filterCols.length === 0) {
    return { table: "usage_dim_buckets", where: `u.dim = '${dims[0] ?? "status_class"}'`, dimExprs: dims.map(() => "u.value") };
  }
  const where = ["1 = 1", ...filterCols.map((c) => `u.${col(c)} = :f_${c}`)].join(" AND ");
  return { table: "usage_buckets", where, dimExprs: dims.map((d) => `u.${col(d)}`) };
}

const FILTER_COLUMNS = ["team", "project", "model"] as const;

function filterColumns(filter: UsageFilter): (typeof FILTER_COLUMNS)[number][] {
  return FILTER_COLUMNS.filter((c) => filter[c] !== undefined);
}

/** The filter on raw calls (the tail), matching the '' convention of the rollups. */
function tailWhere(filter: UsageFilter): string {
  return [TAIL_WHERE, ...filterColumns(filter).map((c) => `${DIMENSION_SQL[c]} = :f_${c}`)].join(" AND ");
}

function filterParams(filter: UsageFilter): Record<string, string> {
  return Object.fromEntries(filterColumns(filter).map((c) => [`f_${c}`, filter[c]!]));
}

/**
 * Totals per period × dimension values. Periods are contiguous, cover [from, to) and are
 * bucket-aligned, so each source row lands in exactly one period. The periods are the outer loop
 * (CROSS JOIN keeps that order in SQLite) and each one is an index range scan by bucket_start,
 * so the work is proportional to the rollup rows in range, never to the table.
 */
export function aggregateUsage(
  client: Database.Database,
  range: UsageRange,
  periods: Period[],
  dims: DimensionSpec[],
  filter: UsageFilter = {},
): AggregateRow[] {
  const source = rollupSource(
    dims.map((d) => d.column),
    filter,
  );
  const periodValues = periods.map((_, i) => `(${i}, :ps${i}, :pe${i})`).join(", ");
  // Folded values get their own names (g0, g1): GROUP BY d0 would bind to the unfolded input column.
  const folded = dims.map((d, i) =>
    d.keep ? `CASE WHEN d${i} IN (SELECT value FROM json_each(:keep${i})) THEN d${i} END AS g${i}` : `d${i} AS g${i}`,
  );
  const sql = `
    WITH periods(p, ps, pe) AS (VALUES ${periodValues})
    SELECT p, ${[...folded, ...MEASURES.map((m) => `SUM(${m}) AS ${m}`)].join(", ")}
    FROM (
      SELECT ${["periods.p AS p", ...source.dimExprs.map((e, i) => `${e} AS d${i}`), ...MEASURES.map((m) => `u.${m} AS ${m}`)].join(", ")}
      FROM periods CROSS JOIN ${source.table} u
      WHERE ${source.where} AND u.bucket_start >= periods.ps AND u.bucket_start < periods.pe
      UNION ALL
      SELECT ${["periods.p", ...dims.map((d, i) => `${DIMENSION_SQL[d.column]} AS d${i}`), ...TAIL_MEASURES].join(", ")}
      FROM calls CROSS JOIN periods
      WHERE ${tailWhere(filter)} AND ${BUCKET_START_SQL} >= periods.ps AND ${BUCKET_START_SQL} < periods.pe
    )
    GROUP BY ${["p", ...dims.map((_, i) => `g${i}`)].join(", ")}`;
  const params: Record<string, number | string> = { ...range, ...filterParams(filter) };
  periods.forEach((period, i) => {
    params[`ps${i}`] = period.start;
    params[`pe${i}`] = period.end;
  });
  dims.forEach((d, i) => {
    if (d.keep) params[`keep${i}`] = JSON.stringify(d.keep);
  });
  return client.prepare(sql).safeIntegers(true).all(params) as AggregateRow[];
}

/**
 * The `limit` values of one dimension with the highest cost in [from, to) (then most requests,
 * then by value, so ties are stable). Used to bound every breakdown to top N plus "other".
 */
export function topDimensionValues(
  client: Database.Database,
  range: UsageRange,
  column: DimensionColumn,
  limit: number,
  filter: UsageFilter = {},
): string[] {
  const source = rollupSource([column], filter);
  const sql = `
    SELECT d FROM (
      SELECT ${source.dimExprs[0]} AS d, u.cost_nano AS cost, u.requests AS requests FROM ${source.table} u
      WHERE ${source.where} AND u.bucket_start >= :from AND u.bucket_start < :to
      UNION ALL
      SELECT ${DIMENSION_SQL[column]}, COALESCE(cost_nano, 0), 1 FROM calls WHERE ${tailWhere(filter)}
    )
    GROUP BY d ORDER BY SUM(cost) DESC, SUM(requests) DESC, d LIMIT :limit`;
  return client.prepare(sql).pluck().all({ ...range, ...filterParams(filter), limit }) as string[];
}
