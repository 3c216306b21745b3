import type Database from "better-sqlite3";
import { BUCKET_START_SQL, DIMENSION_SQL, MEASURE_SQL, col } from "./bucket-row-sql.ts";
import { ROLLUP_WATERMARK, readState, writeState } from "./job-state.ts";

// Writes to usage_buckets and usage_dim_buckets. Every function here expects the caller to hold
// the database write lock (a BEGIN IMMEDIATE transaction, see jobs/rollup.ts): that lock is what
// makes two rollups, even in two processes, run one after the other so no call counts twice.

const DIMS = Object.keys(DIMENSION_SQL) as (keyof typeof DIMENSION_SQL)[];
const MEASURES = Object.keys(MEASURE_SQL) as (keyof typeof MEASURE_SQL)[];

// INSERT … SELECT … GROUP BY … ON CONFLICT DO UPDATE adds a batch of calls onto existing buckets:
// one statement for usage_buckets (all dimensions) and one per dimension for usage_dim_buckets.
// The WHERE clause is spliced in by the caller from fixed strings (never from user input).
function aggregateSql(where: string): string[] {
  const keyCols = ["bucket_start", ...DIMS].map(col).join(", ");
  const measureCols = MEASURES.map(col).join(", ");
  const sums = MEASURES.map((m) => `SUM(${MEASURE_SQL[m]})`).join(", ");
  const accumulate = MEASURES.map((m) => `${col(m)} = ${col(m)} + excluded.${col(m)}`).join(", ");
  const wide = `INSERT INTO usage_buckets (${keyCols}, ${measureCols})
    SELECT ${BUCKET_START_SQL}, ${DIMS.map((d) => DIMENSION_SQL[d]).join(", ")}, ${sums}
    FROM calls WHERE ${where}
    GROUP BY ${[1, ...DIMS.map((_, i) => i + 2)].join(", ")}
    ON CONFLICT (${keyCols}) DO UPDATE SET ${accumulate}`;
  const perDimension = DIMS.map(
    (d) => `INSERT INTO usage_dim_buckets (dim, bucket_start, value, ${measureCols})
    SELECT '${d}', ${BUCKET_START_SQL}, ${DIMENSION_SQL[d]}, ${sums}
    FROM calls WHERE ${where}
    GROUP BY 2, 3
    ON CONFLICT (dim, bucket_start, value) DO UPDATE SET ${accumulate}`,
  );
  return [wide, ...perDimension];
}

function aggregate(client: Database.Database, where: string, ...params: number[]): void {
  for (const sql of aggregateSql(where)) client.prepare(sql).run(...params);
}

export interface RollupProgress {
  /** Calls aggregated by this step. */
  calls: number;
  watermark: number;
  /** True when the watermark reached the newest call. */
  caughtUp: boolean;
}

/**
 * Aggregate calls past the watermark into their buckets and advance the watermark: all of them,
 * or the next `maxIds` ids when a caller wants short steps (see runRollupInSteps).
 */
export function rollupPending(client: Database.Database, maxIds = Number.MAX_SAFE_INTEGER): RollupProgress {
  const watermark = readState(client, ROLLUP_WATERMARK);
  const maxId = (client.prepare("SELECT COALESCE(MAX(id), 0) FROM calls").pluck().get() as number) ?? 0;
  if (maxId <= watermark) return { calls: 0, watermark, caughtUp: true };
  const upTo = Math.min(maxId, watermark + maxIds);
  const calls = client.prepare("SELECT COUNT(*) FROM calls WHERE id > ? AND id <= ?").pluck().get(watermark, upTo) as number;
  aggregate(client, "id > ? AND id <= ?", watermark, upTo);
  writeState(client, ROLLUP_WATERMARK, upTo);
  return { calls, watermark: upTo, caughtUp: upTo === maxId };
}

/**
 * Recompute the buckets in [from, to) (bucket-aligned) from raw calls at or below the watermark.
 * Only valid where retention has deleted no calls (from >= the retention horizon).
 */
export function rebuildBuckets(client: Database.Database, from: number, to: number): RollupProgress {
  const watermark = readState(client, ROLLUP_WATERMARK);
  client.prepare("DELETE FROM usage_buckets WHERE bucket_start >= ? AND bucket_start < ?").run(from, to);
  const deleteDim = client.prepare("DELETE FROM usage_dim_buckets WHERE dim = ? AND bucket_start >= ? AND bucket_start < ?");
  for (const d of DIMS) deleteDim.run(d, from, to); // one index range per dimension, not a table scan
  const calls = client.prepare("SELECT COUNT(*) FROM calls WHERE created_at >= ? AND created_at < ? AND id <= ?")
    .pluck()
    .get(from, to, watermark) as number;
  aggregate(client, "created_at >= ? AND created_at < ? AND id <= ?", from, to, watermark);
  return { calls, watermark, caughtUp: true };
}
