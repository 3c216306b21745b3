import type Database from "better-sqlite3";
import type { Db } from "../../db/database.ts";
import { sqliteClient } from "../../db/sqlite.ts";
import { ceilTo, floorTo } from "../../time.ts";
import { DIMS, PAIRS, pairName } from "./dimension-pairs.ts";
import { ROLLUP_WATERMARK, readState, writeState } from "../../job-runs/job-state.ts";
import { col } from "./bucket-row-sql.ts";
import {
  BUCKET,
  ONE_DIM_DELTA,
  MEASURE_COLS,
  NO_KEY_USER_DELTA,
  NO_KEY_USER_HOURLY_DELTA,
  TWO_DIMS_DELTA,
  SUMS,
  EVERY_DIM_DELTA,
  EVERY_DIM_HOURLY_DELTA,
  clearDeltas,
  deltaKeys,
  fillDeltas,
} from "./rollup-deltas.ts";
import { ROLLUP_LEVELS, familyAt, type RollupFamily, type RollupLevel } from "./rollup-levels.ts";

// Writes to the rollup tables (every level of rollup_every_dim_15m, rollup_no_key_user_15m and
// rollup_one_dim_15m; the hourly and daily pair tables). Every function here expects the caller to
// hold the database write lock (a BEGIN IMMEDIATE transaction, see jobs/rollup.ts): that lock is
// what makes two rollups, even in two processes, run one after the other so no call counts twice.
//
// A batch of calls is summed once into temp tables (the deltas, rollup-deltas.ts): per family its
// finest level's rows (15 minutes; whole hours for the two-dimension family, which has no 15-minute
// level), and the every-dimension and no-key-user families' hourly rows; each level of each family is then added
// onto its rows with INSERT … SELECT … ON CONFLICT DO UPDATE, the coarser levels summed first
// where no delta has them (see aggregate). Reading calls once instead of once per table keeps the
// rollup's cost close to what one level cost.
// The SQL is built from fixed strings only (column names, level widths), never from input.

const FINEST = ROLLUP_LEVELS[0]!;

/** How each family's rows are keyed and which deltas feed them. */
interface Family {
  table: RollupFamily;
  keys: string[];
  /** Deltas holding this family's rows at a level's width, finest first (its finest level's at least). */
  deltas: readonly { table: string; width: number }[];
  /** The leading key column that splits dim and pair tables into one range per dimension or pair. */
  part?: { column: string; values: readonly string[] };
}

const FAMILIES: readonly Family[] = [
  { table: "everyDim", keys: deltaKeys(EVERY_DIM_DELTA), deltas: [EVERY_DIM_DELTA, EVERY_DIM_HOURLY_DELTA] },
  { table: "noKeyUser", keys: deltaKeys(NO_KEY_USER_DELTA), deltas: [NO_KEY_USER_DELTA, NO_KEY_USER_HOURLY_DELTA] },
  { table: "oneDim", keys: ONE_DIM_DELTA.keys, deltas: [ONE_DIM_DELTA], part: { column: `"dim"`, values: DIMS } },
  { table: "twoDims", keys: TWO_DIMS_DELTA.keys, deltas: [TWO_DIMS_DELTA], part: { column: `"pair"`, values: PAIRS.map(pairName) } },
];

/** bucket_start of the `width` bucket that holds a finer bucket (a no-op at 15 minutes). */
function bucketOf(width: number): string {
  return width === FINEST.width ? BUCKET : `${BUCKET} - ${BUCKET} % ${width}`;
}

/** The key columns as a SELECT list for `level`: bucket_start rounded down to its width. */
function keysAt(family: Family, level: RollupLevel): string {
  return family.keys.map((k) => (k === BUCKET ? bucketOf(level.width) : k)).join(", ");
}

/** Add `input`, one row per key of the table's level already, onto `table`'s rows. */
function addRowsSql(family: Family, table: string, input: string): string {
  const columns = [...family.keys, ...MEASURE_COLS].join(", ");
  // The current value named with its table: unqualified, PostgreSQL finds it ambiguous with excluded's.
  const accumulate = MEASURE_COLS.map((m) => `${m} = ${table}.${m} + excluded.${m}`).join(", ");
  // `WHERE true` tells SQLite's parser the ON of ON CONFLICT is not a join constraint.
  return `INSERT INTO ${table} (${columns}) SELECT ${columns} FROM ${input} WHERE true
    ON CONFLICT (${family.keys.join(", ")}) DO UPDATE SET ${accumulate}`;
}

/**
 * Sum the calls matching `where` into the deltas, then add them onto `levels` (those where a
 * family has no table are skipped: the two-dimension family at 15 minutes). A delta is one row per key of
 * its level, so that level takes it as it is (no sort). A level no delta holds (days; hours of
 * the one-dimension family) is first summed into a temp table from the level before's rows, then
 * added on.
 */
function aggregate(client: Database.Database, levels: readonly RollupLevel[], where: string, ...params: number[]): void {
  const built = fillDeltas(client, levels.some((level) => level.width > FINEST.width), where, ...params);
  const summed: string[] = [];
  for (const family of FAMILIES) {
    let input: string | undefined;
    for (const [i, level] of levels.entries()) {
      const table = level[family.table];
      if (table === null) continue;
      const delta = family.deltas.find((d) => d.width === level.width && built.has(d.table));
      if (delta) {
        input = delta.table;
      } else {
        if (input === undefined) throw new Error(`no delta to sum ${table} from`);
        const output = `${family.deltas[0]!.table}_${i}`;
        client.exec(`CREATE TABLE IF NOT EXISTS ${output} AS SELECT * FROM ${family.deltas[0]!.table} WHERE false; DELETE FROM ${output}`);
        client
          .prepare(`INSERT INTO ${output} SELECT ${keysAt(family, level)}, ${SUMS} FROM ${input} GROUP BY ${family.keys.map((_, k) => k + 1).join(", ")}`)
          .run();
        summed.push(output);
        input = output;
      }
      client.prepare(addRowsSql(family, table, input)).run();
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
export async function rollupPending(db: Db, maxIds = Number.MAX_SAFE_INTEGER): Promise<RollupProgress> {
  const client = sqliteClient(db);
  const watermark = await readState(db, ROLLUP_WATERMARK);
  const maxId = (client.prepare("SELECT COALESCE(MAX(id), 0) FROM calls").pluck().get() as number) ?? 0;
  if (maxId <= watermark) return { calls: 0, watermark, caughtUp: true };
  const upTo = Math.min(maxId, watermark + maxIds);
  const calls = client.prepare("SELECT COUNT(*) FROM calls WHERE id > ? AND id <= ?").pluck().get(watermark, upTo) as number;
  aggregate(client, ROLLUP_LEVELS, "id > ? AND id <= ?", watermark, upTo);
  await writeState(db, ROLLUP_WATERMARK, upTo);
  return { calls, watermark: upTo, caughtUp: upTo === maxId };
}

/**
 * The progress of a rollup with nothing to do when no call is past the watermark, else null: a
 * read of the watermark and of the highest call id (the rowid B-tree's last entry), no write.
 */
export async function hasNothingToRollUp(db: Db): Promise<RollupProgress | null> {
  const client = sqliteClient(db);
  const watermark = await readState(db, ROLLUP_WATERMARK);
  const pending = client.prepare("SELECT EXISTS (SELECT 1 FROM calls WHERE id > ?)").pluck().get(watermark) as number;
  return pending ? null : { calls: 0, watermark, caughtUp: true };
}

/**
 * Recompute the buckets in [from, to) (15-minute aligned) from raw calls at or below the
 * watermark, then each coarser level over the hours and days that overlap [from, to) from the
 * level below it (the hourly pair rows from the 15-minute no-key-user or every-dimension rows, see
 * sumFromFiner). Coarse rows are never summed from calls here: an hour or a day that straddles
 * the retention horizon holds calls that are gone, and only the finer rows still count them.
 * Only valid where retention has deleted no calls (from >= the retention horizon).
 */
export async function rebuildBuckets(db: Db, from: number, to: number): Promise<RollupProgress> {
  const client = sqliteClient(db);
  const watermark = await readState(db, ROLLUP_WATERMARK);
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
    for (const family of FAMILIES) sumFromFiner(client, family, level, finer, lo, hi);
  }
  return { calls, watermark, caughtUp: true };
}

/**
 * Write `family`'s rows at `level` in [lo, hi) (whole buckets of the level) summed from `finer`:
 * from the family's own finer rows, one dimension or pair at a time; or, where it has none there
 * (the two-dimension family at 15 minutes), each pair from the table that stands in for it at that level
 * (familyAt, as the usage query reads a pair query's 15-minute edges): rollup_no_key_user_15m for
 * pairs of model, team, project and status, rollup_every_dim_15m for pairs with key_id or user.
 */
function sumFromFiner(client: Database.Database, family: Family, level: RollupLevel, finer: RollupLevel, lo: number, hi: number): void {
  const table = level[family.table];
  if (table === null) return;
  const into = `INSERT INTO ${table} (${family.keys.join(", ")}, ${MEASURE_COLS.join(", ")})`;
  const groupBy = `GROUP BY ${family.keys.map((_, k) => k + 1).join(", ")}`;
  const own = finer[family.table];
  if (own !== null) {
    const fill = client.prepare(
      `${into} SELECT ${keysAt(family, level)}, ${SUMS} FROM ${own}
       WHERE ${family.part ? `${family.part.column} = ? AND ` : ""}${BUCKET} >= ? AND ${BUCKET} < ? ${groupBy}`,
    );
    forEachPart(family, (part) => fill.run(...part, lo, hi));
    return;
  }
  if (family.table !== "twoDims") throw new Error(`no finer ${family.table} rows to sum ${table} from`);
  for (const pair of PAIRS) {
    client
      .prepare(
        `${into} SELECT '${pairName(pair)}', ${bucketOf(level.width)}, ${col(pair[0])}, ${col(pair[1])}, ${SUMS}
         FROM ${familyAt(finer, "twoDims", pair).table} WHERE ${BUCKET} >= ? AND ${BUCKET} < ? ${groupBy}`,
      )
      .run(lo, hi);
  }
}

function deleteRange(client: Database.Database, level: RollupLevel, from: number, to: number): void {
  for (const family of FAMILIES) {
    const table = level[family.table];
    if (table === null) continue;
    const del = client.prepare(`DELETE FROM ${table} WHERE ${family.part ? `${family.part.column} = ? AND ` : ""}${BUCKET} >= ? AND ${BUCKET} < ?`);
    forEachPart(family, (part) => del.run(...part, from, to));
  }
}

/**
 * Run `fn` once per dimension or pair of a dim or two-dimension family (with its name as the leading
 * parameter: one key range each, not a table scan), once with no parameter for the others.
 */
function forEachPart(family: Family, fn: (part: string[]) => void): void {
  if (family.part) for (const value of family.part.values) fn([value]);
  else fn([]);
}
