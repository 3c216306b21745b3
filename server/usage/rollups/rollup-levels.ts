import { getTableName, type Table } from "drizzle-orm";
import {
  rollupEveryDim15m,
  rollupEveryDimDay,
  rollupEveryDimHour,
  rollupOneDim15m,
  rollupOneDimDay,
  rollupOneDimHour,
  rollupNoKeyUser15m,
  rollupNoKeyUserDay,
  rollupNoKeyUserHour,
  rollupTwoDimsDay,
  rollupTwoDimsHour,
} from "../../db/schema.ts";
import { BUCKET_MS, DAY_MS, HOUR_MS, splitByWidths } from "../../time.ts";
import type { DimensionColumn } from "./bucket-row-sql.ts";

// The rollup levels: the same aggregates at 15 minutes, whole UTC hours and whole UTC days (see
// schema.ts). The rollup writes every level in one transaction, so they always cover the same
// calls; a read takes each part of its range from the coarsest level that tiles it exactly.
//
// Each level has a table per rollup family, except the two-dimension family at 15 minutes: a period is
// read from whole days and hours, and 15-minute buckets only at its ragged edges (less than an
// hour at each end, levelPieces), so 15-minute pair rows (70 % of the family's rows, most of its
// rollup cost) would serve only those edges. There the no-key-user or every-dimension family stands in
// (familyAt): every family holds exact sums of the same calls, so the answer is the same.

/** The rollup families, by the columns their rows keep (see schema.ts). */
export type RollupFamily = "oneDim" | "twoDims" | "noKeyUser" | "everyDim";

export interface RollupLevel {
  /** Bucket width in ms; bucket_start is a multiple of it. */
  width: number;
  /** All-dimensions table (rollup_every_dim_15m shape). */
  everyDim: string;
  /** All dimensions but key_id and user (rollup_no_key_user_15m shape). */
  noKeyUser: string;
  /** Two-dimension table (rollup_two_dims_hour shape); null at 15 minutes, where there is none (familyAt). */
  twoDims: string | null;
  /** One-dimension table (rollup_one_dim_15m shape). */
  oneDim: string;
}

/** Finest first; each width is a multiple of the one before. The first is the truth kept forever. */
export const ROLLUP_LEVELS: readonly RollupLevel[] = [
  level(BUCKET_MS, rollupEveryDim15m, rollupNoKeyUser15m, null, rollupOneDim15m),
  level(HOUR_MS, rollupEveryDimHour, rollupNoKeyUserHour, rollupTwoDimsHour, rollupOneDimHour),
  level(DAY_MS, rollupEveryDimDay, rollupNoKeyUserDay, rollupTwoDimsDay, rollupOneDimDay),
];

function level(width: number, everyDim: Table, noKeyUser: Table, twoDims: Table | null, oneDim: Table): RollupLevel {
  return { width, everyDim: getTableName(everyDim), noKeyUser: getTableName(noKeyUser), twoDims: twoDims && getTableName(twoDims), oneDim: getTableName(oneDim) };
}

/** The dimensions the no-key-user family keeps (rollup_no_key_user_15m: no key_id, no user). */
export const NO_KEY_USER_COLUMNS: readonly DimensionColumn[] = ["model", "team", "project", "status_class"];

/**
 * The family, and its table, that serves `family` at `level` for rows that must keep `columns`:
 * the family itself where the level has its table; else (the two-dimension family at 15 minutes) the
 * no-key-user family when it keeps every one of `columns`, else the every-dimension one. The usage
 * query reads a pair query's 15-minute edges this way, and a rebuild sums the hourly pair rows
 * this way from the 15-minute rows, as migration 0010 backfilled them from the hourly ones.
 */
export function familyAt(level: RollupLevel, family: RollupFamily, columns: readonly DimensionColumn[]): { family: RollupFamily; table: string } {
  const own = level[family];
  if (own !== null) return { family, table: own };
  const standIn = columns.every((c) => NO_KEY_USER_COLUMNS.includes(c)) ? "noKeyUser" : "everyDim";
  return { family: standIn, table: level[standIn] };
}

const WIDTHS = ROLLUP_LEVELS.map((l) => l.width);

/** A part of a range read from one level: whole buckets of that level, [start, end). */
export interface LevelPiece {
  level: number;
  start: number;
  end: number;
}

/**
 * [from, to) (15-minute aligned) as the fewest rollup rows: 15-minute buckets up to the first
 * whole hour, hours up to the first whole UTC day, days, then hours and buckets again. A 30-day
 * UTC month is 30 daily rows per value; a day in Asia/Kathmandu (18:15Z → 18:15Z) is 3 buckets,
 * 23 hours and 1 bucket.
 */
export function levelPieces(from: number, to: number): LevelPiece[] {
  return splitByWidths(from, to, WIDTHS).map((p) => ({ level: WIDTHS.indexOf(p.width), start: p.start, end: p.end }));
}
