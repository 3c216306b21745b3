import { sql, type SQL } from "drizzle-orm";
import type { Db } from "../../db/database.ts";
import { inUsageSnapshot } from "../rollups/postgres/commit-watermark.ts";
import {
  aggregateUsageSql,
  topDimensionValuesSql,
  type AggregateQuery,
  type AggregateRow,
  type DimensionSpec,
  type UsageDialect,
  type UsageRange,
} from "../usage-sql.ts";

// The usage query on PostgreSQL: the same statements as on SQLite (usage-sql.ts) with this
// engine's pieces, run in one REPEATABLE READ snapshot with the commit_xid watermark of that
// snapshot (rollups/postgres/commit-watermark.ts). The calls past the watermark are those whose
// transaction the rollup has not taken yet, in any id order, so a call committed late by another
// instance is in the tail exactly until a rollup moves it into the rollups.
//
// The calls past the watermark are summed from raw calls in SQL (commit_xid index, a few seconds
// of traffic when the rollup keeps up). SQLite's per-connection tail cache brings itself up to
// date by call id, which is not an order calls commit in here.

/**
 * PostgreSQL: the tail by commit_xid; sums as text (SUM of bigint is numeric, and the pool reads
 * numeric as a JS number, which would refuse anything past 2^53 nano-USD); values ordered
 * bytewise (COLLATE "C", UTF-8 bytes order as code points), as SQLite orders them, whatever the
 * database's collation, so ties in the top-N list break alike on both engines.
 */
const POSTGRES_USAGE: UsageDialect = {
  tailWhere: "commit_xid >= :watermark AND created_at >= :inner_from AND created_at < :inner_to",
  inJsonList: (expr, param) => `${expr} IN (SELECT jsonb_array_elements_text(CAST(:${param} AS jsonb)))`,
  sum: (expr) => `CAST(SUM(${expr}) AS TEXT)`,
  byCodePoint: (expr) => `${expr} COLLATE "C"`,
  // A LATERAL subquery per piece, kept whole by OFFSET 0: planned as a plain join, PostgreSQL
  // chose to read every row of the dimension (all days the table holds) once and test it
  // against each of the pieces, its cost model guessing a range of unknown bounds to match a
  // third of the table; ~100 ms for a 30-day query by day, where a range scan per piece is ~10.
  pieceScan: (pieces, table, where) => `FROM ${pieces} CROSS JOIN LATERAL (
        SELECT * FROM ${table} u WHERE ${where} AND u.bucket_start >= ${pieces}.ps AND u.bucket_start < ${pieces}.pe OFFSET 0
      ) AS u`,
};

/** `text` with each :name bound to params[name], as drizzle SQL (numbered placeholders). */
function bindNamed(text: string, params: Record<string, number | string>): SQL {
  const chunks: SQL[] = [];
  let last = 0;
  for (const m of text.matchAll(/:([a-z_][a-z0-9_]*)/gi)) {
    const name = m[1]!;
    if (!(name in params)) throw new Error(`no value for :${name}`);
    chunks.push(sql.raw(text.slice(last, m.index)), sql`${params[name]}`);
    last = m.index + m[0].length;
  }
  chunks.push(sql.raw(text.slice(last)));
  return sql.join(chunks);
}

type TextRow = { p: number; g0?: string | null; g1?: string | null } & Record<(typeof MEASURES)[number], string>;
const MEASURES = ["requests", "errors", "prompt_tokens", "completion_tokens", "cost_nano", "unpriced_requests", "duration_ms_sum"] as const;

/**
 * No JIT compilation: the reads are a few thousand rollup rows (~10 ms at 10M calls), but a range
 * scan per piece over many pieces is estimated past jit_above_cost, and compiling took 30–100 ms
 * on its own (30-day windows by day in a :30 or :45 zone, 15-minute edges).
 */
const NO_JIT = { jit: "off" };

/** readAggregates (usage-sql.ts) on PostgreSQL: the same rows, measures as BigInt. */
export function readAggregatesPostgres(db: Db, q: AggregateQuery): Promise<AggregateRow[]> {
  return inUsageSnapshot(db, async (tx, watermark) => {
    const range: UsageRange = { from: q.from, to: q.to, innerFrom: q.innerFrom, innerTo: q.innerTo, watermark };
    const dims: DimensionSpec[] = [];
    for (const column of q.columns) {
      const top = topDimensionValuesSql(range, column, q.topN + 1, q.filter, undefined, POSTGRES_USAGE);
      const values = (await tx.all<{ d: string }>(bindNamed(top.sql, top.params))).map((r) => r.d);
      dims.push({ column, keep: values.length > q.topN ? values.slice(0, q.topN) : null });
    }
    if (q.periods.length === 0) return [];
    const agg = aggregateUsageSql(range, q.periods, dims, q.filter, undefined, POSTGRES_USAGE);
    const rows = await tx.all<TextRow>(bindNamed(agg.sql, agg.params));
    return rows.map((r) => {
      const row: AggregateRow = {
        p: BigInt(r.p),
        requests: BigInt(r.requests),
        errors: BigInt(r.errors),
        prompt_tokens: BigInt(r.prompt_tokens),
        completion_tokens: BigInt(r.completion_tokens),
        cost_nano: BigInt(r.cost_nano),
        unpriced_requests: BigInt(r.unpriced_requests),
        duration_ms_sum: BigInt(r.duration_ms_sum),
      };
      if ("g0" in r) row.g0 = r.g0;
      if ("g1" in r) row.g1 = r.g1;
      return row;
    });
  }, NO_JIT);
}
