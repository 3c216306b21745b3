import type Database from "better-sqlite3";
import type { Db } from "../db/database.ts";
import { sqliteClient } from "../db/sqlite.ts";
import { ROLLUP_WATERMARK, readState } from "../job-runs/job-state.ts";
import type { Period } from "../time.ts";
import { freshTail, tailGroupsJson, tailValuesJson } from "./rollups/fresh-tail-cache.ts";
import { DIMENSION_SQL, MEASURE_SQL, col, type DimensionColumn } from "./rollups/bucket-row-sql.ts";
import { pairName, pairOf } from "./rollups/dimension-pairs.ts";
import { periodIndexSql } from "./rollups/period-index-sql.ts";
import { NO_KEY_USER_COLUMNS, ROLLUP_LEVELS, familyAt, levelPieces, type RollupFamily, type RollupLevel } from "./rollups/rollup-levels.ts";

// The SQL of the usage query, and how SQLite runs it (PostgreSQL: postgres/read-aggregates.ts,
// with its own UsageDialect). Source rows are rollups (calls at or below the
// watermark) plus the calls past the watermark, shaped alike, so an answer is fresh to the second
// and exact whatever the rollup has done so far. Those calls come summed from the per-connection
// cache as JSON rows (TailSource, fresh-tail-cache.ts), or from one pass over the raw calls with
// each call's period computed by arithmetic (period-index-sql.ts). The pieces that differ by
// engine are a UsageDialect's; SQLite's (SQLITE_USAGE) uses json_each for the top-N list and the
// unary `+` that keeps the planner off calls_created_idx for the tail.
//
// Rollup source (rollupFamily): with at most one dimension and no filter, the rollup_one_dim_15m
// levels (a few rows per bucket); else, when the dimensions and filters name exactly two columns,
// the pair levels (rollup_two_dims_hour and _daily, one row per combination of those two);
// else, when every dimension and filter is among model, team, project and status, the
// rollup_no_key_user_15m levels (one row per such combination); otherwise the rollup_every_dim_15m levels
// (up to one row per distinct combination, so slower on high-cardinality data). Each period is
// read from the coarsest levels that tile it (rollup-levels.ts): whole UTC days, whole hours, and
// 15-minute buckets only at its edges. The two-dimension family has no 15-minute level, so a pair query
// reads its edges (less than an hour at each end) from the no-key-user or every-dimension 15-minute
// rows (familyAt): the same sums, so the same answer.

export interface UsageRange {
  from: number;
  to: number;
  watermark: number;
  /**
   * The whole buckets inside [from, to) (instant-range.ts), when from or to is not on a bucket
   * boundary: rollups and the fresh tail serve these, raw calls the partial buckets at the edges.
   * Absent: from and to are bucket-aligned.
   */
  innerFrom?: number;
  innerTo?: number;
}

/** The whole-bucket part of a range, and whether it has partial edges read from raw calls. */
function innerOf(range: UsageRange): { from: number; to: number; edges: boolean } {
  const from = range.innerFrom ?? range.from;
  const to = range.innerTo ?? range.to;
  return { from, to, edges: from !== range.from || to !== range.to };
}

// The partial buckets at the edges of an unaligned range, read from raw calls of any id (edges
// are excluded from the rollups and the tail, so each call still counts once).
const EDGE_WHERE = "(created_at >= :from AND created_at < :inner_from OR created_at >= :inner_to AND created_at < :to)";

function rangeParams(range: UsageRange): Record<string, number> {
  const inner = innerOf(range);
  return { from: range.from, to: range.to, watermark: range.watermark, inner_from: inner.from, inner_to: inner.to };
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
  duration_ms_sum: bigint;
}

const MEASURES = ["requests", "errors", "prompt_tokens", "completion_tokens", "cost_nano", "unpriced_requests", "duration_ms_sum"] as const;

// Per-call values of the measures for raw calls (the tail), in MEASURES order.
// The same expressions the rollup sums (bucket-row-sql.ts), so a call counts alike before and after.
const TAIL_MEASURES = MEASURES.map((m) => MEASURE_SQL[m]);

/** What the statements need that the engines spell differently. */
export interface UsageDialect {
  /** The calls past the watermark (:watermark) inside the whole buckets [:inner_from, :inner_to). */
  tailWhere: string;
  /** `expr` is one of the values of the JSON array text bound to :`param`. */
  inJsonList(expr: string, param: string): string;
  /** A sum of integers, read back exactly (as BigInt). */
  sum(expr: string): string;
  /** `expr` as a sort key that orders values by code point on either engine. */
  byCodePoint(expr: string): string;
  /**
   * FROM and WHERE of one level's read: the rows `u` of `table` meeting `where` inside each
   * piece (ps, pe) of the CTE `pieces`, read as one index range scan per piece.
   */
  pieceScan(pieces: string, table: string, where: string): string;
}

/**
 * SQLite: the tail is found by id (rowid range, small); `+created_at` stops SQLite from preferring
 * the created_at index, which would scan the whole range instead of the few calls past the
 * watermark. Sums are read with safeIntegers; text compares bytewise (BINARY).
 */
const SQLITE_USAGE: UsageDialect = {
  tailWhere: "id > :watermark AND +created_at >= :inner_from AND +created_at < :inner_to",
  inJsonList: (expr, param) => `${expr} IN (SELECT value FROM json_each(:${param}))`,
  sum: (expr) => `SUM(${expr})`,
  byCodePoint: (expr) => expr,
  // CROSS JOIN keeps the pieces as SQLite's outer loop.
  pieceScan: (pieces, table, where) => `FROM ${pieces} CROSS JOIN ${table} u
      WHERE ${where} AND u.bucket_start >= ${pieces}.ps AND u.bucket_start < ${pieces}.pe`,
};

/**
 * Where a query reads the calls past the watermark: raw calls (one pass over them in SQL, the
 * default), or sums already taken from the per-connection cache (fresh-tail-cache.ts) as JSON
 * rows: per period and dimension values for aggregateUsage, per value for topDimensionValues.
 */
export interface TailSource {
  groupsJson?: string;
  valuesJson?: string;
}
const RAW_TAIL: TailSource = {};

/** Which rollup family serves a query: one-dimension, two-dimension, narrow all-dimensions or all-dimensions. */
export type { RollupFamily };

/**
 * The family a query with these dimensions and filter reads (exported for the tests). Each call
 * is in every family, so any family that has the columns asked gives the same sums; the one with
 * the fewest rows is chosen.
 */
export function rollupFamily(dims: readonly DimensionColumn[], filter: UsageFilter): RollupFamily {
  const filterCols = filterColumns(filter);
  if (dims.length <= 1 && filterCols.length === 0) return "oneDim";
  const columns = new Set([...dims, ...filterCols]);
  if (columns.size === 2) return "twoDims";
  if ([...columns].every((c) => NO_KEY_USER_COLUMNS.includes(c))) return "noKeyUser";
  return "everyDim";
}

/** What a query reads at one rollup level: the table, and over its row `u` the filter and the dimension values. */
interface LevelSource {
  table: string;
  where: string;
  dimExprs: string[];
}

/** A query's LevelSource per rollup level. */
type RollupSource = (level: RollupLevel) => LevelSource;

/**
 * Which rollup rows to read at each level and how to name their dimension values: rollupFamily's
 * table where the level has one, else the family that stands in for it there (familyAt: the
 * no-key-user or every-dimension rows at the two-dimension family's missing 15-minute level). Each call appears
 * once per dimension in rollup_one_dim_15m, so with no dimension asked any one of them gives the
 * totals: status_class has the fewest values.
 */
function rollupSource(dims: DimensionColumn[], filter: UsageFilter): RollupSource {
  const chosen = rollupFamily(dims, filter);
  const filterCols = filterColumns(filter);
  return (level) => {
    const { family, table } = familyAt(level, chosen, [...dims, ...filterCols]);
    if (family === "oneDim") {
      return { table, where: `u.dim = '${dims[0] ?? "status_class"}'`, dimExprs: dims.map(() => "u.value") };
    }
    if (family === "twoDims") {
      // The two columns in canonical order are (a, b), whichever order the query names them in.
      const [x, y] = [...new Set([...dims, ...filterCols])] as [DimensionColumn, DimensionColumn];
      const pair = pairOf(x, y);
      const pairColumn = (c: DimensionColumn) => (c === pair[0] ? "u.a" : "u.b");
      const where = [`u.pair = '${pairName(pair)}'`, ...filterCols.map((c) => `${pairColumn(c)} = :f_${c}`)].join(" AND ");
      return { table, where, dimExprs: dims.map(pairColumn) };
    }
    const where = ["1 = 1", ...filterCols.map((c) => `u.${col(c)} = :f_${c}`)].join(" AND ");
    return { table, where, dimExprs: dims.map((d) => `u.${col(d)}`) };
  };
}

/** An integer we computed (period index, bucket boundary), written into the SQL text. */
function int(n: number): string {
  if (!Number.isSafeInteger(n)) throw new Error(`not a safe integer: ${n}`);
  return String(n);
}

/**
 * The rollup part of a query: per level, a CTE of (p, ps, pe) rows, one per piece of a period
 * read at that level, and a SELECT that range-scans the level's table once per piece (the CTE is
 * the outer loop, dialect.pieceScan). The table, its filter and the
 * dimension expressions are the level's own (rollupSource); `columns` gives the SELECT's columns
 * after p over that level's rollup row `u`. Period indexes and boundaries are integers computed
 * here, never input, and are written as literals (int() checks): 2,500 hourly periods in a :45
 * zone are 5,000 pieces plus 2,500 periods, ~22,500 values, too close to SQLite's limit of 32,766
 * bound parameters.
 */
function rollupBranches(
  source: RollupSource,
  periods: readonly { start: number; end: number }[],
  columns: (s: LevelSource) => string[],
  inner: { from: number; to: number },
  dialect: UsageDialect,
): { ctes: string[]; selects: string[] } {
  const rowsByLevel = ROLLUP_LEVELS.map((): string[] => []);
  periods.forEach((period, p) => {
    // Only the whole buckets: a period cut by an unaligned from/to has its partial edge from raw calls.
    const start = Math.max(period.start, inner.from);
    const end = Math.min(period.end, inner.to);
    if (start >= end) return;
    for (const piece of levelPieces(start, end)) rowsByLevel[piece.level]!.push(`(${int(p)}, ${int(piece.start)}, ${int(piece.end)})`);
  });
  const ctes: string[] = [];
  const selects: string[] = [];
  ROLLUP_LEVELS.forEach((level, i) => {
    const rows = rowsByLevel[i]!;
    if (rows.length === 0) return;
    const name = `l${i}`;
    const s = source(level);
    ctes.push(`${name}(p, ps, pe) AS (VALUES ${rows.join(", ")})`);
    selects.push(
      `SELECT ${[`${name}.p AS p`, ...columns(s)].join(", ")}
      ${dialect.pieceScan(name, s.table, s.where)}`,
    );
  });
  return { ctes, selects };
}

const FILTER_COLUMNS = ["team", "project", "model"] as const;

function filterColumns(filter: UsageFilter): (typeof FILTER_COLUMNS)[number][] {
  return FILTER_COLUMNS.filter((c) => filter[c] !== undefined);
}

/** What one usage query reads: the range, its periods, up to two dimension columns, a filter. */
export interface AggregateQuery {
  from: number;
  to: number;
  /** The whole buckets inside [from, to) (instant-range.ts); the partial edges come from raw calls. */
  innerFrom: number;
  innerTo: number;
  periods: Period[];
  columns: DimensionColumn[];
  filter: UsageFilter;
  /** Each dimension keeps its topN values by cost; the rest fold into one NULL group. */
  topN: number;
  /** Sum the calls past the watermark from the per-connection cache (else from raw calls in SQL). */
  cachedTail: boolean;
}

/**
 * The rows of one usage query (queryUsage shapes them). One read transaction: the watermark, the
 * buckets and the tail come from one WAL snapshot, so a rollup committing in between cannot make
 * a call count twice or not at all.
 */
export function readAggregates(db: Db, q: AggregateQuery): Promise<AggregateRow[]> {
  return db.transaction(async (tx) => {
    const range = { from: q.from, to: q.to, innerFrom: q.innerFrom, innerTo: q.innerTo, watermark: await readState(tx, ROLLUP_WATERMARK) };
    const client = sqliteClient(tx);
    const tail = q.cachedTail ? freshTail(tx, range.watermark) : null;
    // The tail cache holds whole buckets: it serves the inner range, raw calls the edges.
    const selection = { from: q.innerFrom, to: q.innerTo, filter: q.filter, periodStarts: q.periods.map((p) => p.start) };
    const dims: DimensionSpec[] = q.columns.map((column) => {
      const source = tail ? { valuesJson: tailValuesJson(tail, selection, column) } : undefined;
      const top = topDimensionValues(client, range, column, q.topN + 1, q.filter, source);
      return { column, keep: top.length > q.topN ? top.slice(0, q.topN) : null };
    });
    const source = tail ? { groupsJson: tailGroupsJson(tail, selection, dims.map((d) => d.column)) } : undefined;
    return aggregateUsage(client, range, q.periods, dims, q.filter, source);
  });
}

/** The filter on raw calls (the tail), matching the '' convention of the rollups. */
function tailWhere(filter: UsageFilter, where: string): string {
  return [where, ...filterColumns(filter).map((c) => `${DIMENSION_SQL[c]} = :f_${c}`)].join(" AND ");
}

function filterParams(filter: UsageFilter): Record<string, string> {
  return Object.fromEntries(filterColumns(filter).map((c) => [`f_${c}`, filter[c]!]));
}

/**
 * Totals per period × dimension values. Periods are contiguous, cover [from, to) and are
 * bucket-aligned, so each source row lands in exactly one period. Each piece of a period is an
 * index range scan by bucket_start, so the work is proportional to the rollup rows in range at
 * the coarsest level that fits, never to the table.
 */
function aggregateUsage(
  client: Database.Database,
  range: UsageRange,
  periods: Period[],
  dims: DimensionSpec[],
  filter: UsageFilter = {},
  tail: TailSource = RAW_TAIL,
): AggregateRow[] {
  if (periods.length === 0) return [];
  const { sql, params } = aggregateUsageSql(range, periods, dims, filter, tail);
  return client.prepare(sql).safeIntegers(true).all(params) as AggregateRow[];
}

/** The statement behind aggregateUsage (exported for the query-plan test). */
export function aggregateUsageSql(
  range: UsageRange,
  periods: Period[],
  dims: DimensionSpec[],
  filter: UsageFilter = {},
  tail: TailSource = RAW_TAIL,
  dialect: UsageDialect = SQLITE_USAGE,
): { sql: string; params: Record<string, number | string> } {
  const source = rollupSource(
    dims.map((d) => d.column),
    filter,
  );
  const inner = innerOf(range);
  const rollup = rollupBranches(source, periods, (s) => [...s.dimExprs.map((e, i) => `${e} AS d${i}`), ...MEASURES.map((m) => `u.${m} AS ${m}`)], inner, dialect);
  const rawColumns = [periodIndexSql(periods), ...dims.map((d, i) => `${DIMENSION_SQL[d.column]} AS d${i}`), ...TAIL_MEASURES].join(", ");
  // Named: with no whole bucket in range, the edges are the first SELECT and name the columns.
  const edgeColumns = [`${periodIndexSql(periods)} AS p`, ...dims.map((d, i) => `${DIMENSION_SQL[d.column]} AS d${i}`), ...TAIL_MEASURES.map((e, m) => `${e} AS ${MEASURES[m]}`)].join(", ");
  // Folded values get their own names (g0, g1): GROUP BY d0 would bind to the unfolded input column.
  const folded = dims.map((d, i) =>
    d.keep ? `CASE WHEN ${dialect.inJsonList(`d${i}`, `keep${i}`)} THEN d${i} END AS g${i}` : `d${i} AS g${i}`,
  );
  const sql = `
    ${rollup.ctes.length > 0 ? `WITH ${rollup.ctes.join(",\n    ")}` : ""}
    SELECT p, ${[...folded, ...MEASURES.map((m) => `${dialect.sum(m)} AS ${m}`)].join(", ")}
    FROM (
      ${[
        ...rollup.selects,
        ...(inner.edges ? [`SELECT ${edgeColumns} FROM calls WHERE ${tailWhere(filter, EDGE_WHERE)}`] : []),
        tail.groupsJson === undefined
          ? `SELECT ${rawColumns}
      FROM calls WHERE ${tailWhere(filter, dialect.tailWhere)}`
          : `SELECT ${[0, ...dims.map((_, i) => i + 1), ...MEASURES.map((_, m) => dims.length + 1 + m)].map((k) => `json_extract(t.value, '$[${k}]')`).join(", ")}
      FROM json_each(:tail) t`,
      ].join("\n      UNION ALL\n      ")}
    ) AS source
    GROUP BY ${["p", ...dims.map((_, i) => `g${i}`)].join(", ")}`;
  const params: Record<string, number | string> = { ...rangeParams(range), ...filterParams(filter) };
  if (tail.groupsJson !== undefined) params.tail = tail.groupsJson;
  dims.forEach((d, i) => {
    if (d.keep) params[`keep${i}`] = JSON.stringify(d.keep);
  });
  return { sql, params };
}

/**
 * The `limit` values of one dimension with the highest cost in [from, to) (then most requests,
 * then by value, so ties are stable). Used to bound every breakdown to top N plus "other".
 */
function topDimensionValues(
  client: Database.Database,
  range: UsageRange,
  column: DimensionColumn,
  limit: number,
  filter: UsageFilter = {},
  tail: TailSource = RAW_TAIL,
): string[] {
  const { sql, params } = topDimensionValuesSql(range, column, limit, filter, tail);
  return client.prepare(sql).pluck().all(params) as string[];
}

/** The statement behind topDimensionValues (exported for the query-plan test). */
export function topDimensionValuesSql(
  range: UsageRange,
  column: DimensionColumn,
  limit: number,
  filter: UsageFilter = {},
  tail: TailSource = RAW_TAIL,
  dialect: UsageDialect = SQLITE_USAGE,
): { sql: string; params: Record<string, number | string> } {
  const source = rollupSource([column], filter);
  const inner = innerOf(range);
  const rollup = rollupBranches(source, [{ start: range.from, end: range.to }], (s) => [`${s.dimExprs[0]} AS d`, "u.cost_nano AS cost", "u.requests AS requests"], inner, dialect);
  const sql = `
    ${rollup.ctes.length > 0 ? `WITH ${rollup.ctes.join(", ")}` : ""}
    SELECT d FROM (
      ${[
        ...rollup.selects,
        ...(inner.edges ? [`SELECT 0 AS p, ${DIMENSION_SQL[column]} AS d, COALESCE(cost_nano, 0) AS cost, 1 AS requests FROM calls WHERE ${tailWhere(filter, EDGE_WHERE)}`] : []),
        tail.valuesJson === undefined
          ? `SELECT 0, ${DIMENSION_SQL[column]}, COALESCE(cost_nano, 0), 1 FROM calls WHERE ${tailWhere(filter, dialect.tailWhere)}`
          : `SELECT 0, ${[0, 1, 2].map((k) => `json_extract(t.value, '$[${k}]')`).join(", ")} FROM json_each(:tail) t`,
      ].join("\n      UNION ALL\n      ")}
    ) AS source
    GROUP BY d ORDER BY SUM(cost) DESC, SUM(requests) DESC, ${dialect.byCodePoint("d")} LIMIT :limit`;
  return { sql, params: { ...rangeParams(range), ...filterParams(filter), limit, ...(tail.valuesJson === undefined ? {} : { tail: tail.valuesJson }) } };
}
