import { ceilTo, floorTo } from "../../time.ts";
import { DIMS, PAIRS, pairName } from "./dimension-pairs.ts";
import { col } from "./bucket-row-sql.ts";
import type { RollupParam, RollupRunner } from "./rollup-runner.ts";
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
// rollup_one_dim_15m; the hourly and daily pair tables), the same statements on both engines
// through a RollupRunner. Which calls a rollup takes is the engine's watermark: a call id on
// SQLite, where one writer at a time makes every lower id committed (sqlite/rollup-by-id.ts), the
// id of the inserting transaction on PostgreSQL, where many writers commit out of id order
// (postgres/rollup-by-xid.ts); buckets.ts picks one by the Db's dialect. Every
// function here expects the caller to hold the rollup lock (a BEGIN IMMEDIATE transaction on
// SQLite, see jobs/rollup.ts; an advisory lock on PostgreSQL): that lock is what makes two
// rollups, even in two processes, run one after the other so no call counts twice.
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
 * Sum the calls matching `where` (its `?` bound to `params`) into the deltas, then add them onto
 * `levels` (those where a family has no table are skipped: the two-dimension family at 15 minutes).
 * A delta is one row per key of its level, so that level takes it as it is (no sort). A level no
 * delta holds (days; hours of the one-dimension family) is first summed into a scratch table from
 * the level before's rows, then added on.
 */
export async function aggregate(runner: RollupRunner, levels: readonly RollupLevel[], where: string, params: readonly RollupParam[]): Promise<void> {
  const built = await fillDeltas(runner, levels.some((level) => level.width > FINEST.width), where, params);
  const summed: string[] = [];
  for (const family of FAMILIES) {
    let input: string | undefined;
    for (const [i, level] of levels.entries()) {
      const table = level[family.table];
      if (table === null) continue;
      const delta = family.deltas.find((d) => d.width === level.width && built.has(d.table));
      if (delta) {
        input = runner.scratch(delta.table);
      } else {
        if (input === undefined) throw new Error(`no delta to sum ${table} from`);
        const output = runner.scratch(`${family.deltas[0]!.table}_${i}`);
        await runner.run(runner.createScratchLike(output, runner.scratch(family.deltas[0]!.table)));
        await runner.run(`DELETE FROM ${output}`);
        await runner.run(`INSERT INTO ${output} SELECT ${keysAt(family, level)}, ${SUMS} FROM ${input} GROUP BY ${family.keys.map((_, k) => k + 1).join(", ")}`);
        summed.push(output);
        input = output;
      }
      await runner.run(addRowsSql(family, table, input));
    }
  }
  for (const table of summed) await runner.run(`DELETE FROM ${table}`);
  await clearDeltas(runner);
}

/**
 * rebuildBuckets' writes, the engine's part done: `rolledUp` is the SQL (its `?` bound to
 * `params`) that selects the calls at or below the watermark.
 */
export async function rebuildRange(runner: RollupRunner, from: number, to: number, rolledUp: string, params: readonly RollupParam[]): Promise<void> {
  await deleteRange(runner, FINEST, from, to);
  await aggregate(runner, [FINEST], `created_at >= ? AND created_at < ? AND ${rolledUp}`, [from, to, ...params]);
  for (let i = 1; i < ROLLUP_LEVELS.length; i++) {
    const level = ROLLUP_LEVELS[i]!;
    const finer = ROLLUP_LEVELS[i - 1]!;
    const lo = floorTo(from, level.width);
    const hi = ceilTo(to, level.width);
    await deleteRange(runner, level, lo, hi);
    for (const family of FAMILIES) await sumFromFiner(runner, family, level, finer, lo, hi);
  }
}

/**
 * Write `family`'s rows at `level` in [lo, hi) (whole buckets of the level) summed from `finer`:
 * from the family's own finer rows, one dimension or pair at a time; or, where it has none there
 * (the two-dimension family at 15 minutes), each pair from the table that stands in for it at that level
 * (familyAt, as the usage query reads a pair query's 15-minute edges): rollup_no_key_user_15m for
 * pairs of model, team, project and status, rollup_every_dim_15m for pairs with key_id or user.
 */
async function sumFromFiner(runner: RollupRunner, family: Family, level: RollupLevel, finer: RollupLevel, lo: number, hi: number): Promise<void> {
  const table = level[family.table];
  if (table === null) return;
  const into = `INSERT INTO ${table} (${family.keys.join(", ")}, ${MEASURE_COLS.join(", ")})`;
  const groupBy = `GROUP BY ${family.keys.map((_, k) => k + 1).join(", ")}`;
  const own = finer[family.table];
  if (own !== null) {
    const fill = `${into} SELECT ${keysAt(family, level)}, ${SUMS} FROM ${own}
       WHERE ${family.part ? `${family.part.column} = ? AND ` : ""}${BUCKET} >= ? AND ${BUCKET} < ? ${groupBy}`;
    for (const part of parts(family)) await runner.run(fill, [...part, lo, hi]);
    return;
  }
  if (family.table !== "twoDims") throw new Error(`no finer ${family.table} rows to sum ${table} from`);
  for (const pair of PAIRS) {
    await runner.run(
      `${into} SELECT '${pairName(pair)}', ${bucketOf(level.width)}, ${col(pair[0])}, ${col(pair[1])}, ${SUMS}
       FROM ${familyAt(finer, "twoDims", pair).table} WHERE ${BUCKET} >= ? AND ${BUCKET} < ? ${groupBy}`,
      [lo, hi],
    );
  }
}

async function deleteRange(runner: RollupRunner, level: RollupLevel, from: number, to: number): Promise<void> {
  for (const family of FAMILIES) {
    const table = level[family.table];
    if (table === null) continue;
    const del = `DELETE FROM ${table} WHERE ${family.part ? `${family.part.column} = ? AND ` : ""}${BUCKET} >= ? AND ${BUCKET} < ?`;
    for (const part of parts(family)) await runner.run(del, [...part, from, to]);
  }
}

/**
 * The leading parameters of one statement per dimension or pair of a dim or two-dimension family
 * (its name: one key range each, not a table scan); one statement with none for the others.
 */
function parts(family: Family): string[][] {
  return family.part ? family.part.values.map((value) => [value]) : [[]];
}
