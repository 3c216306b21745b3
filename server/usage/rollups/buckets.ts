import type { Db } from "../../db/database.ts";
import * as postgres from "./postgres/rollup-by-xid.ts";
import * as sqlite from "./sqlite/rollup-by-id.ts";

// The rollup's entry points. Each engine has its own watermark (which calls are in the rollups):
// a call id on SQLite, where one writer at a time makes every lower id committed
// (sqlite/rollup-by-id.ts); the id of the inserting transaction on PostgreSQL, where several
// writers commit out of id order (postgres/rollup-by-xid.ts). Both write the rollup tables with
// the same statements (bucket-writes.ts).

export interface RollupProgress {
  /** Calls aggregated by this step. */
  calls: number;
  watermark: number;
  /** True when the watermark reached the newest call. */
  caughtUp: boolean;
}

/**
 * Aggregate calls past the watermark into their buckets at every level and advance the
 * watermark: all of them, or about the next `maxCalls` when a caller wants short steps (see
 * runRollupInSteps). Call it in a transaction that holds the rollup lock (jobs/rollup.ts).
 */
export function rollupPending(db: Db, maxCalls = Number.MAX_SAFE_INTEGER): Promise<RollupProgress> {
  return db.dialect === "postgres" ? postgres.rollupPending(db, maxCalls) : sqlite.rollupPending(db, maxCalls);
}

/**
 * The progress of a rollup with nothing to do when no call is past the watermark, else null: a
 * read of the watermark and of the calls past it, no write.
 */
export function hasNothingToRollUp(db: Db): Promise<RollupProgress | null> {
  return db.dialect === "postgres" ? postgres.hasNothingToRollUp(db) : sqlite.hasNothingToRollUp(db);
}

/**
 * Recompute the buckets in [from, to) (15-minute aligned) from raw calls the watermark covers,
 * then each coarser level over the hours and days that overlap [from, to) from the level below
 * it (the hourly pair rows from the 15-minute no-key-user or every-dimension rows, see
 * sumFromFiner). Coarse rows are never summed from calls here: an hour or a day that straddles
 * the retention horizon holds calls that are gone, and only the finer rows still count them.
 * Only valid where retention has deleted no calls (from >= the retention horizon).
 */
export function rebuildBuckets(db: Db, from: number, to: number): Promise<RollupProgress> {
  return db.dialect === "postgres" ? postgres.rebuildBuckets(db, from, to) : sqlite.rebuildBuckets(db, from, to);
}

