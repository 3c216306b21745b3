import { BUCKET_MS, HOUR_MS } from "../../time.ts";
import { BUCKET_START_SQL, DIMENSION_SQL, MEASURE_SQL, col, type DimensionColumn, type MeasureColumn } from "./bucket-row-sql.ts";
import { DIMS, PAIRS, pairName } from "./dimension-pairs.ts";
import type { RollupParam, RollupRunner } from "./rollup-runner.ts";

// The rollup's deltas: a batch of calls summed into temp tables, one row per key, from which
// buckets.ts adds every level of every rollup family. Calls are read once, into the every-dimension delta
// (every dimension, 15-minute buckets); everything else is summed from deltas, never from calls.
//
// Summing is a sort (GROUP BY), so its cost is the rows sorted (~0.9 µs per row here). Each delta
// is summed from the smallest delta built before it that has its columns, not from the every-dimension one:
// intermediates over fewer dimensions hold a quarter to a half of its rows, and their hourly twins
// about half of theirs (bench:spend's 1M new calls onto 10M, rows per 15 minutes / per hour: wide
// 768k / 523k, no model 394k / 205k, key/team/user/status 277k / 136k, narrow 208k / 78k). The
// dimension deltas are summed from the 15-minute intermediates. The pair delta is of whole hours
// (the two-dimension family has no 15-minute level, rollup-levels.ts), summed from the hourly
// intermediates: 2.6M rows sorted for the 15 pairs instead of 5.0M from the 15-minute ones. The
// hourly every-dimension and no-key-user deltas are also those families' hourly rows.
// Both engines run these same statements through a RollupRunner (rollup-runner.ts): only the
// scratch tables' names and DDL, and the binding of parameters, differ between them.
// The SQL is built from fixed strings only (column names), never from input.

const MEASURES = Object.keys(MEASURE_SQL) as MeasureColumn[];
export const MEASURE_COLS = MEASURES.map(col);
export const SUMS = MEASURE_COLS.map((m) => `SUM(${m})`).join(", ");
export const BUCKET = col("bucket_start");

/** A scratch (temp) table of rows keyed by bucket_start (a multiple of `width`) and `dims`, one row per key. */
export interface Delta {
  table: string;
  dims: readonly DimensionColumn[];
  width: number;
}

/** Key columns of a delta (and of the rollup table it feeds), quoted. */
export function deltaKeys(delta: Delta): string[] {
  return [BUCKET, ...delta.dims.map(col)];
}

/** The same rows summed per whole UTC hour. */
function hourly(delta: Delta): Delta {
  return { table: `${delta.table}_hourly`, dims: delta.dims, width: HOUR_MS };
}

/** The calls of a batch per 15-minute bucket and every dimension: rollup_every_dim_15m' rows. */
export const EVERY_DIM_DELTA: Delta = { table: "rollup_delta", dims: DIMS, width: BUCKET_MS };
/** rollup_no_key_user_15m' rows: every dimension but key_id and user. */
export const NO_KEY_USER_DELTA: Delta = { table: "rollup_delta_narrow", dims: DIMS.filter((d) => d !== "key_id" && d !== "user"), width: BUCKET_MS };
const NO_MODEL_DELTA: Delta = { table: "rollup_delta_no_model", dims: DIMS.filter((d) => d !== "model"), width: BUCKET_MS };
const KEY_USER_DELTA: Delta = { table: "rollup_delta_key_user", dims: ["key_id", "team", "user", "status_class"], width: BUCKET_MS };
/** rollup_every_dim_hour's and rollup_no_key_user_hour's rows. */
export const EVERY_DIM_HOURLY_DELTA = hourly(EVERY_DIM_DELTA);
export const NO_KEY_USER_HOURLY_DELTA = hourly(NO_KEY_USER_DELTA);
const NO_MODEL_HOURLY_DELTA = hourly(NO_MODEL_DELTA);
const KEY_USER_HOURLY_DELTA = hourly(KEY_USER_DELTA);

/** rollup_one_dim_15m' rows ("dim", bucket_start, "value"), per 15-minute bucket. */
export const ONE_DIM_DELTA = { table: "rollup_dim_delta", keys: ["dim", "bucket_start", "value"].map(col), width: BUCKET_MS };
/** rollup_two_dims_hour's rows ("pair", bucket_start, "a", "b"), per whole UTC hour. */
export const TWO_DIMS_DELTA = { table: "rollup_pair_delta", keys: ["pair", "bucket_start", "a", "b"].map(col), width: HOUR_MS };

/** The intermediates in the order they are built, each from the smallest delta built before it. */
const INTERMEDIATES = [NO_MODEL_DELTA, KEY_USER_DELTA, NO_KEY_USER_DELTA];
const HOURLY_INTERMEDIATES = [EVERY_DIM_HOURLY_DELTA, NO_MODEL_HOURLY_DELTA, KEY_USER_HOURLY_DELTA, NO_KEY_USER_HOURLY_DELTA];
/** Smallest first (rows per batch, as measured above). */
const BY_SIZE = [
  NO_KEY_USER_HOURLY_DELTA,
  KEY_USER_HOURLY_DELTA,
  NO_MODEL_HOURLY_DELTA,
  NO_KEY_USER_DELTA,
  KEY_USER_DELTA,
  NO_MODEL_DELTA,
  EVERY_DIM_HOURLY_DELTA,
  EVERY_DIM_DELTA,
];

/** The smallest delta built so far with `columns` and buckets that tile `width`. */
function smallestWith(columns: readonly DimensionColumn[], width: number, built: ReadonlySet<string>): Delta {
  const found = BY_SIZE.find((d) => built.has(d.table) && width % d.width === 0 && columns.every((c) => d.dims.includes(c)));
  if (!found) throw new Error(`no delta holds ${columns.join(", ")}`); // the every-dimension one holds all
  return found;
}

/** bucket_start of a `width` bucket, from a delta's bucket_start (a no-op at the same width). */
function bucketAt(width: number, from: Delta): string {
  return width === from.width ? BUCKET : `${BUCKET} - ${BUCKET} % ${width}`;
}

/** Every scratch table a batch fills. */
const ALL_DELTAS = [EVERY_DIM_DELTA, ...INTERMEDIATES, ...HOURLY_INTERMEDIATES, ONE_DIM_DELTA, TWO_DIMS_DELTA].map((d) => d.table);

async function resetDeltaTables(runner: RollupRunner): Promise<void> {
  const typed = (keys: string[]) => keys.map((k) => `${k} ${k === BUCKET ? runner.integer : "TEXT"} NOT NULL`);
  const measures = MEASURE_COLS.map((m) => `${m} ${runner.integer} NOT NULL`);
  const create = (table: string, keys: string[]) => runner.run(runner.createScratch(runner.scratch(table), [...typed(keys), ...measures].join(", ")));
  for (const delta of [EVERY_DIM_DELTA, ...INTERMEDIATES, ...HOURLY_INTERMEDIATES]) await create(delta.table, deltaKeys(delta));
  for (const delta of [ONE_DIM_DELTA, TWO_DIMS_DELTA]) await create(delta.table, delta.keys);
  await clearDeltas(runner);
}

export async function clearDeltas(runner: RollupRunner): Promise<void> {
  for (const table of ALL_DELTAS) await runner.run(`DELETE FROM ${runner.scratch(table)}`);
}

/**
 * Sum the calls matching `where` into the every-dimension delta, then into the 15-minute intermediate and
 * dimension deltas and, when `withHourly`, the hourly intermediates and the (hourly) pair delta:
 * a rebuild of the 15-minute levels has no use for them. Returns the tables filled. The WHERE
 * clause is spliced in by the caller from fixed strings, its values bound from `params` (`?`).
 */
export async function fillDeltas(runner: RollupRunner, withHourly: boolean, where: string, params: readonly RollupParam[]): Promise<ReadonlySet<string>> {
  await resetDeltaTables(runner);
  const t = (table: string) => runner.scratch(table);
  await runner.run(
    `INSERT INTO ${t(EVERY_DIM_DELTA.table)} (${deltaKeys(EVERY_DIM_DELTA).join(", ")}, ${MEASURE_COLS.join(", ")})
     SELECT ${BUCKET_START_SQL}, ${DIMS.map((d) => DIMENSION_SQL[d]).join(", ")}, ${MEASURES.map((m) => `SUM(${MEASURE_SQL[m]})`).join(", ")}
     FROM calls WHERE ${where}
     GROUP BY ${deltaKeys(EVERY_DIM_DELTA).map((_, i) => i + 1).join(", ")}`,
    params,
  );
  const built = new Set([EVERY_DIM_DELTA.table]);
  const fill = async (delta: Delta) => {
    const keys = deltaKeys(delta);
    const from = smallestWith(delta.dims, delta.width, built);
    await runner.run(
      `INSERT INTO ${t(delta.table)} (${keys.join(", ")}, ${MEASURE_COLS.join(", ")})
       SELECT ${bucketAt(delta.width, from)}, ${delta.dims.map(col).join(", ")}, ${SUMS} FROM ${t(from.table)} GROUP BY ${keys.map((_, i) => i + 1).join(", ")}`,
    );
    built.add(delta.table);
  };
  for (const delta of INTERMEDIATES) await fill(delta);
  for (const d of DIMS) {
    await runner.run(
      `INSERT INTO ${t(ONE_DIM_DELTA.table)} (${ONE_DIM_DELTA.keys.join(", ")}, ${MEASURE_COLS.join(", ")})
       SELECT '${d}', ${BUCKET}, ${col(d)}, ${SUMS} FROM ${t(smallestWith([d], ONE_DIM_DELTA.width, built).table)} GROUP BY 2, 3`,
    );
  }
  built.add(ONE_DIM_DELTA.table);
  if (!withHourly) return built;
  for (const delta of HOURLY_INTERMEDIATES) await fill(delta);
  for (const pair of PAIRS) {
    const from = smallestWith(pair, TWO_DIMS_DELTA.width, built);
    await runner.run(
      `INSERT INTO ${t(TWO_DIMS_DELTA.table)} (${TWO_DIMS_DELTA.keys.join(", ")}, ${MEASURE_COLS.join(", ")})
       SELECT '${pairName(pair)}', ${bucketAt(TWO_DIMS_DELTA.width, from)}, ${col(pair[0])}, ${col(pair[1])}, ${SUMS} FROM ${t(from.table)} GROUP BY 2, 3, 4`,
    );
  }
  built.add(TWO_DIMS_DELTA.table);
  return built;
}
