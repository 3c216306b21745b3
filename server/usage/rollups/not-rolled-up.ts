import { sql, type SQL } from "drizzle-orm";
import type { Db } from "../../db/database.ts";
import { ROLLUP_WATERMARK, readState } from "../../job-runs/job-state.ts";
import { ROLLUP_XID_WATERMARK, readXidWatermark } from "./postgres/commit-watermark.ts";

/**
 * A condition on calls selecting those the rollups do not hold yet (the fresh tail), read from
 * the engine's watermark: past the highest call id rolled up on SQLite; from the lowest
 * transaction id not rolled up on PostgreSQL, where ids commit out of order
 * (postgres/commit-watermark.ts). Reads that add it to rollup sums must read both in one snapshot
 * (rolled-up-plus-tail.ts).
 */
export async function notRolledUp(db: Db): Promise<SQL> {
  return notRolledUpBelow(db, await readRollupWatermark(db));
}

/** The engine's rollup watermark: it moves exactly when a rollup step commits. */
export async function readRollupWatermark(db: Db): Promise<number> {
  return db.dialect === "postgres" ? readXidWatermark(db) : readState(db, ROLLUP_WATERMARK);
}

/** The watermark as a scalar subquery: read in the snapshot of the statement it is part of. */
export function watermarkInStatement(db: Db): SQL {
  const name = db.dialect === "postgres" ? ROLLUP_XID_WATERMARK : ROLLUP_WATERMARK;
  return sql`COALESCE((SELECT value FROM job_state WHERE name = ${name}), 0)`;
}

/** The condition of notRolledUp for a given watermark: a value read before, or an SQL expression (watermarkInStatement). */
export function notRolledUpBelow(db: Db, watermark: SQL | number): SQL {
  return db.dialect === "postgres" ? sql`commit_xid >= ${watermark}` : sql`id > ${watermark}`;
}
