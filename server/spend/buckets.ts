import type Database from "better-sqlite3";
import { ceilTo, floorTo } from "../time.ts";
import { BUCKET_START_SQL, DIMENSION_SQL, MEASURE_SQL, col } from "./bucket-row-sql.ts";
import { ROLLUP_WATERMARK, readState, writeState } from "./job-state.ts";
import { ROLLUP_LEVELS, type RollupLevel } from "./rollup-levels.ts";

// Writes to the rollup tables (every level of usage_buckets, usage_narrow_buckets and
// usage_dim_buckets). Every
// function here expects the caller to hold the database write lock (a BEGIN IMMEDIATE
// transaction, see jobs/rollup.ts): that lock is what makes two rollups, even in two processes,
// run one after the other so no call counts twice.
//
// A batch of calls is summed once into a temp table of 15-minute rows (the delta); every level
// and every dimension is then summed from the delta and added onto its rows with
// INSERT … SELECT … GROUP BY … ON CONFLICT DO UPDATE. Reading calls once instead of once per
// table keeps the rollup's cost close to what one level cost. PostgreSQL twin: the same
// statements on a CREATE TEMP TABLE … ON COMMIT DELETE ROWS.
// The SQL is built from fixed strings only (column names, level widths), never from input.

const DIMS = Object.keys(DIMENSION_SQL) as (keyof typeof DIMENSION_SQL)[];
const MEASURES = Object.keys(MEASURE_SQL) as (keyof typeof MEASURE_SQL)[];
const WIDE_KEYS = ["bucket_start", ...DIMS].map(col);
/** The narrow family's dimensions: every one but key_id and user (see schema.ts). */
const NARROW_DIMS = DIMS.filter((d) => d !== "key_id" && d !== "user");
const NARROW_KEYS = ["bucket_start", ...NARROW_DIMS].map(col);
const DIM_KEYS = ["dim", "bucket_start", "value"].map(col);
const MEASURE_COLS = MEASURES.map(col);
const SUMS = MEASURE_COLS.map((m) => `SUM(${m})`).join(", ");
const FINEST = ROLLUP_LEVELS[0]!;

const DELTA = "temp.rollup_delta";
const DIM_DELTA = "temp.rollup_dim_delta";

function resetDeltaTables(client: Database.Database): void {
  const typed = (keys: string[]) => keys.map((k) => `${k} ${k === `"bucket_start"` ? "INTEGER" : "TEXT"} NOT NULL`);
  const measures = MEASURE_COLS.map((m) => `${m} INTEGER NOT NULL`);
  client.exec(`CREATE TEMP TABLE IF NOT EXISTS rollup_delta (${[...typed(WIDE_KEYS), ...measures].join(", ")})`);
  client.exec(`CREATE TEMP TABLE IF NOT EXISTS rollup_dim_delta (${[...typed(DIM_KEYS), ...measures].join(", ")})`);
  client.exec(`DELETE FROM ${DELTA}; DELETE FROM ${DIM_DELTA}`);
}

/** bucket_start of the `width` bucket that holds a finer bucket (a no-op at 15 minutes). */
function bucketOf(width: number): string {
  return width === FINEST.width ? `"bucket_start"` : `"bucket_start" - "bucket_start" % ${width}`;
}

const accumulate = MEASURE_COLS.map((m) => `${m} = ${m} + excluded.${m}`).join(", ");

/** Add the delta onto one level's rows. */
function addDeltaSql(level: RollupLevel): string[] {
  const at = bucketOf(level.width);
  // The delta is already one row per 15-minute key: the finest level takes it as it is (no sort).
  // `WHERE true` tells SQLite's parser the ON of ON CONFLICT is not a join constraint.
  const wideRows =
    level === FINEST
      ? `SELECT ${WIDE_KEYS.join(", ")}, ${MEASURE_COLS.join(", ")} FROM ${DELTA} WHERE true`
      : `SELECT ${at}, ${DIMS.map(col).join(", ")}, ${SUMS} FROM ${DELTA} GROUP BY ${WIDE_KEYS.map((_, i) => i + 1).join(", ")}`;
  return [
    `INSERT INTO ${level.wide} (${WIDE_KEYS.join(", ")}, ${MEASURE_COLS.join(", ")})
     ${wideRows}
     ON CONFLICT (${WIDE_KEYS.join(", ")}) DO UPDATE SET ${accumulate}`,
    // The delta has key_id and user: even the finest narrow level sums over them.
    `INSERT INTO ${level.narrow} (${NARROW_KEYS.join(", ")}, ${MEASURE_COLS.join(", ")})
     SELECT ${at}, ${NARROW_DIMS.map(col).join(", ")}, ${SUMS} FROM ${DELTA}
     GROUP BY ${NARROW_KEYS.map((_, i) => i + 1).join(", ")}
     ON CONFLICT (${NARROW_KEYS.join(", ")}) DO UPDATE SET ${accumulate}`,
    `INSERT INTO ${level.dim} (${DIM_KEYS.join(", ")}, ${MEASURE_COLS.join(", ")})
     SELECT "dim", ${at}, "value", ${SUMS} FROM ${DIM_DELTA}
     GROUP BY 1, 2, 3
     ON CONFLICT (${DIM_KEYS.join(", ")}) DO UPDATE SET ${accumulate}`,
  ];
}

/**
 * Sum the calls matching `where` into the delta, then add it onto `levels`. The WHERE clause is
 * spliced in by the caller from fixed strings.
 */
function aggregate(client: Database.Database, levels: readonly RollupLevel[], where: string, ...params: number[]): void {
  resetDeltaTables(client);
  client
    .prepare(
      `INSERT INTO ${DELTA} (${WIDE_KEYS.join(", ")}, ${MEASURE_COLS.join(", ")})
       SELECT ${BUCKET_START_SQL}, ${DIMS.map((d) => DIMENSION_SQL[d]).join(", ")}, ${MEASURES.map((m) => `SUM(${MEASURE_SQL[m]})`).join(", ")}
       FROM calls WHERE ${where}
       GROUP BY ${WIDE_KEYS.map((_, i) => i + 1).join(", ")}`,
    )
    .run(...params);
  for (const d of DIMS) {
    client
      .prepare(
        `INSERT INTO ${DIM_DELTA} (${DIM_KEYS.join(", ")}, ${MEASURE_COLS.join(", ")})
         SELECT '${d}', "bucket_start", ${col(d)}, ${SUMS} FROM ${DELTA} GROUP BY 2, 3`,
      )
      .run();
  }
  for (const level of levels) for (const sql of addDeltaSql(level)) client.prepare(sql).run();
  client.exec(`DELETE FROM ${DELTA}; DELETE FROM ${DIM_DELTA}`);
}

export interface RollupProgress {
  /** Calls aggregated by this step. */
  calls: number;
  watermark: number;
  /** True when the watermark reached the newest call. */
  caughtUp: boolean;
}

/**
 * Aggregate calls past the watermark into their buckets at every level and advance the
 * watermark: all of them, or the next `maxIds` ids when a caller wants short steps (see
 * runRollupInSteps).
 */
export function rollupPending(client: Database.Database, maxIds = Number.MAX_SAFE_INTEGER): RollupProgress {
  const watermark = readState(client, ROLLUP_WATERMARK);
  const maxId = (client.prepare("SELECT COALESCE(MAX(id), 0) FROM calls").pluck().get() as number) ?? 0;
  if (maxId <= watermark) return { calls: 0, watermark, caughtUp: true };
  const upTo = Math.min(maxId, watermark + maxIds);
  const calls = client.prepare("SELECT COUNT(*) FROM calls WHERE id > ? AND id <= ?").pluck().get(watermark, upTo) as number;
  aggregate(client, ROLLUP_LEVELS, "id > ? AND id <= ?", watermark, upTo);
  writeState(client, ROLLUP_WATERMARK, upTo);
  return { calls, watermark: upTo, caughtUp: upTo === maxId };
}

/**
 * Recompute the buckets in [from, to) (15-minute aligned) from raw calls at or below the
 * watermark, then each coarser level over the hours and days that overlap [from, to) from the
 * level below it. Coarse rows are never summed from calls here: an hour or a day that straddles
 * the retention horizon holds calls that are gone, and only the finer rows still count them.
 * Only valid where retention has deleted no calls (from >= the retention horizon).
 */
export function rebuildBuckets(client: Database.Database, from: number, to: number): RollupProgress {
  const watermark = readState(client, ROLLUP_WATERMARK);
  deleteRange(client, FINEST, from, to);
  const calls = client.prepare("SELECT COUNT(*) FROM calls WHERE created_at >= ? AND created_at < ? AND id <= ?")
    .pluck()
    .get(from, to, watermark) as number;
  aggregate(client, [FINEST], "created_at >= ? AND created_at < ? AND id <= ?", from, to, watermark);
  for (let i = 1; i < ROLLUP_LEVELS.length; i++) {
    const level = ROLLUP_LEVELS[i]!;
    const finer = ROLLUP_LEVELS[i - 1]!;
    const lo = floorTo(from, level.width);
    const hi = ceilTo(to, level.width);
    deleteRange(client, level, lo, hi);
    const at = bucketOf(level.width);
    client
      .prepare(
        `INSERT INTO ${level.wide} (${WIDE_KEYS.join(", ")}, ${MEASURE_COLS.join(", ")})
         SELECT ${at}, ${DIMS.map(col).join(", ")}, ${SUMS} FROM ${finer.wide}
         WHERE "bucket_start" >= ? AND "bucket_start" < ?
         GROUP BY ${WIDE_KEYS.map((_, i) => i + 1).join(", ")}`,
      )
      .run(lo, hi);
    client
      .prepare(
        `INSERT INTO ${level.narrow} (${NARROW_KEYS.join(", ")}, ${MEASURE_COLS.join(", ")})
         SELECT ${at}, ${NARROW_DIMS.map(col).join(", ")}, ${SUMS} FROM ${finer.narrow}
         WHERE "bucket_start" >= ? AND "bucket_start" < ?
         GROUP BY ${NARROW_KEYS.map((_, i) => i + 1).join(", ")}`,
      )
      .run(lo, hi);
    const fillDim = client.prepare(
      `INSERT INTO ${level.dim} (${DIM_KEYS.join(", ")}, ${MEASURE_COLS.join(", ")})
       SELECT "dim", ${at}, "value", ${SUMS} FROM ${finer.dim}
       WHERE "dim" = ? AND "bucket_start" >= ? AND "bucket_start" < ?
       GROUP BY 1, 2, 3`,
    );
    for (const d of DIMS) fillDim.run(d, lo, hi); // one index range per dimension, not a table scan
  }
  return { calls, watermark, caughtUp: true };
}

function deleteRange(client: Database.Database, level: RollupLevel, from: number, to: number): void {
  client.prepare(`DELETE FROM ${level.wide} WHERE "bucket_start" >= ? AND "bucket_start" < ?`).run(from, to);
  client.prepare(`DELETE FROM ${level.narrow} WHERE "bucket_start" >= ? AND "bucket_start" < ?`).run(from, to);
  const deleteDim = client.prepare(`DELETE FROM ${level.dim} WHERE "dim" = ? AND "bucket_start" >= ? AND "bucket_start" < ?`);
  for (const d of DIMS) deleteDim.run(d, from, to); // one index range per dimension, not a table scan
}
