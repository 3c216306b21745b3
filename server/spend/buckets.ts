import type Database from "better-sqlite3";
import { ceilTo, floorTo } from "../time.ts";
import { DIMS, PAIRS, pairName } from "./dimension-pairs.ts";
import { ROLLUP_WATERMARK, readState, writeState } from "./job-state.ts";
import { BUCKET, DIM_DELTA, MEASURE_COLS, NARROW_DELTA, PAIR_DELTA, SUMS, WIDE_DELTA, clearDeltas, deltaKeys, fillDeltas } from "./rollup-deltas.ts";
import { ROLLUP_LEVELS, type RollupLevel } from "./rollup-levels.ts";

// Writes to the rollup tables (every level of usage_buckets, usage_narrow_buckets,
// usage_pair_buckets and usage_dim_buckets). Every function here expects the caller to hold the
// database write lock (a BEGIN IMMEDIATE transaction, see jobs/rollup.ts): that lock is what makes
// two rollups, even in two processes, run one after the other so no call counts twice.
//
// A batch of calls is summed once into temp tables of 15-minute rows, one per family (the deltas,
// rollup-deltas.ts); each level of each family is then added onto its rows with
// INSERT … SELECT … ON CONFLICT DO UPDATE, the coarser levels summed first (see aggregate).
// Reading calls once instead of once per table keeps the rollup's cost close to what one level
// cost.
// The SQL is built from fixed strings only (column names, level widths), never from input.

const FINEST = ROLLUP_LEVELS[0]!;

/** How each family's rows are keyed and which delta feeds them. */
interface Family {
  table: keyof Omit<RollupLevel, "width">;
  keys: string[];
  delta: string;
  /** The leading key column that splits dim and pair tables into one range per dimension or pair. */
  part?: { column: string; values: readonly string[] };
}

const FAMILIES: readonly Family[] = [
  { table: "wide", keys: deltaKeys(WIDE_DELTA), delta: WIDE_DELTA.table },
  { table: "narrow", keys: deltaKeys(NARROW_DELTA), delta: NARROW_DELTA.table },
  { table: "dim", keys: DIM_DELTA.keys, delta: DIM_DELTA.table, part: { column: `"dim"`, values: DIMS } },
  { table: "pair", keys: PAIR_DELTA.keys, delta: PAIR_DELTA.table, part: { column: `"pair"`, values: PAIRS.map(pairName) } },
];

/** bucket_start of the `width` bucket that holds a finer bucket (a no-op at 15 minutes). */
function bucketOf(width: number): string {
  return width === FINEST.width ? BUCKET : `${BUCKET} - ${BUCKET} % ${width}`;
}

/** The key columns as a SELECT list for `level`: bucket_start rounded down to its width. */
function keysAt(family: Family, level: RollupLevel): string {
  return family.keys.map((k) => (k === BUCKET ? bucketOf(level.width) : k)).join(", ");
}

const accumulate = MEASURE_COLS.map((m) => `${m} = ${m} + excluded.${m}`).join(", ");

/** Add `input`, one row per key of `level` already, onto the level's rows. */
function addRowsSql(family: Family, level: RollupLevel, input: string): string {
  const columns = [...family.keys, ...MEASURE_COLS].join(", ");
  // `WHERE true` tells SQLite's parser the ON of ON CONFLICT is not a join constraint.
  return `INSERT INTO ${level[family.table]} (${columns}) SELECT ${columns} FROM ${input} WHERE true
    ON CONFLICT (${family.keys.join(", ")}) DO UPDATE SET ${accumulate}`;
}

/**
 * Sum the calls matching `where` into the deltas, then add them onto `levels`. A delta is one row
 * per 15-minute key, so the finest level takes it as it is (no sort). Each coarser level's rows
 * are first summed into a temp table from the level before's (hours from the 15-minute delta,
 * days from the hourly one, which has ~40 % of the pair family's rows), then added on.
 */
function aggregate(client: Database.Database, levels: readonly RollupLevel[], where: string, ...params: number[]): void {
  fillDeltas(client, where, ...params);
  const summed: string[] = [];
  for (const family of FAMILIES) {
    let input = family.delta;
    for (const [i, level] of levels.entries()) {
      if (level !== FINEST) {
        const output = `${family.delta}_${i}`;
        client.exec(`CREATE TABLE IF NOT EXISTS ${output} AS SELECT * FROM ${family.delta} WHERE false; DELETE FROM ${output}`);
        client
          .prepare(`INSERT INTO ${output} SELECT ${keysAt(family, level)}, ${SUMS} FROM ${input} GROUP BY ${family.keys.map((_, k) => k + 1).join(", ")}`)
          .run();
        summed.push(output);
        input = output;
      }
      client.prepare(addRowsSql(family, level, input)).run();
    }
  }
  for (const table of summed) client.exec(`DELETE FROM ${table}`);
  clearDeltas(client);
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
    for (const family of FAMILIES) {
      const fill = client.prepare(
        `INSERT INTO ${level[family.table]} (${family.keys.join(", ")}, ${MEASURE_COLS.join(", ")})
         SELECT ${keysAt(family, level)}, ${SUMS} FROM ${finer[family.table]}
         WHERE ${family.part ? `${family.part.column} = ? AND ` : ""}${BUCKET} >= ? AND ${BUCKET} < ?
         GROUP BY ${family.keys.map((_, i) => i + 1).join(", ")}`,
      );
      forEachPart(family, (part) => fill.run(...part, lo, hi));
    }
  }
  return { calls, watermark, caughtUp: true };
}

function deleteRange(client: Database.Database, level: RollupLevel, from: number, to: number): void {
  for (const family of FAMILIES) {
    const del = client.prepare(
      `DELETE FROM ${level[family.table]} WHERE ${family.part ? `${family.part.column} = ? AND ` : ""}${BUCKET} >= ? AND ${BUCKET} < ?`,
    );
    forEachPart(family, (part) => del.run(...part, from, to));
  }
}

/**
 * Run `fn` once per dimension or pair of a dim or pair family (with its name as the leading
 * parameter: one key range each, not a table scan), once with no parameter for the others.
 */
function forEachPart(family: Family, fn: (part: string[]) => void): void {
  if (family.part) for (const value of family.part.values) fn([value]);
  else fn([]);
}
