import { getTableName, type Table } from "drizzle-orm";
import {
  usageBuckets,
  usageBucketsDaily,
  usageBucketsHourly,
  usageDimBuckets,
  usageDimBucketsDaily,
  usageDimBucketsHourly,
  usageNarrowBuckets,
  usageNarrowBucketsDaily,
  usageNarrowBucketsHourly,
  usagePairBuckets,
  usagePairBucketsDaily,
  usagePairBucketsHourly,
} from "../db/schema.ts";
import { BUCKET_MS, DAY_MS, HOUR_MS, splitByWidths } from "../time.ts";

// The rollup levels: the same aggregates at 15 minutes, whole UTC hours and whole UTC days (see
// schema.ts). The rollup writes every level in one transaction, so they always cover the same
// calls; a read takes each part of its range from the coarsest level that tiles it exactly.

export interface RollupLevel {
  /** Bucket width in ms; bucket_start is a multiple of it. */
  width: number;
  /** All-dimensions table (usage_buckets shape). */
  wide: string;
  /** All dimensions but key_id and user (usage_narrow_buckets shape). */
  narrow: string;
  /** Two-dimension table (usage_pair_buckets shape). */
  pair: string;
  /** One-dimension table (usage_dim_buckets shape). */
  dim: string;
}

/** Finest first; each width is a multiple of the one before. The first is the truth kept forever. */
export const ROLLUP_LEVELS: readonly RollupLevel[] = [
  level(BUCKET_MS, usageBuckets, usageNarrowBuckets, usagePairBuckets, usageDimBuckets),
  level(HOUR_MS, usageBucketsHourly, usageNarrowBucketsHourly, usagePairBucketsHourly, usageDimBucketsHourly),
  level(DAY_MS, usageBucketsDaily, usageNarrowBucketsDaily, usagePairBucketsDaily, usageDimBucketsDaily),
];

function level(width: number, wide: Table, narrow: Table, pair: Table, dim: Table): RollupLevel {
  return { width, wide: getTableName(wide), narrow: getTableName(narrow), pair: getTableName(pair), dim: getTableName(dim) };
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
