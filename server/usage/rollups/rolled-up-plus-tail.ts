import { sql, type SQL } from "drizzle-orm";
import type { Db } from "../../db/database.ts";
import { notRolledUpBelow, readRollupWatermark, watermarkInStatement } from "./not-rolled-up.ts";

// Sums that add rollup rows to the calls not rolled up yet must read the rollups and the
// watermark in one snapshot. A rollup commits its rows and the new watermark together; a reader
// that reads the rollups before that commit and the watermark after it misses the calls the
// rollup took, and one that reads the watermark before and the rollups after counts them twice.
//
// One statement is one snapshot on both engines, in or out of a transaction, whatever its
// isolation: on PostgreSQL a READ COMMITTED statement (a budget grant's write transaction, which
// must see what committed while it waited for its lock, so it cannot read one REPEATABLE READ
// snapshot taken before); on SQLite a statement outside a transaction, which would otherwise see
// a new WAL snapshot per statement. So the rollup sums, the tail and the watermark that divides
// them are one statement here.
//
// The tail is bounded twice: by the watermark as read in the statement (what makes it exact),
// and by the same watermark read just before as a plain value, which is what lets the planner
// see that only the few newest calls qualify and use the commit_xid index (PostgreSQL plans an
// uncorrelated subquery's value as unknown). The watermark only moves up, so the statement's own
// is the tighter bound; were it ever lower than the one read before, calls between the two would
// be left out, and the sum is read again.

/**
 * `rolledUp` (scalar sums over rollup rows, e.g. `SELECT SUM(cost_nano) FROM …`) plus `tail`
 * (a scalar sum over calls, given the condition selecting the calls not rolled up), in one
 * statement. Sums are read as text: a number would lose nano-dollars past 2^53.
 */
export async function sumRolledUpPlusTail(db: Db, rolledUp: readonly SQL[], tail: (pending: SQL) => SQL): Promise<bigint> {
  const inStatement = watermarkInStatement(db);
  for (;;) {
    const before = await readRollupWatermark(db);
    const pending = sql`${notRolledUpBelow(db, before)} AND ${notRolledUpBelow(db, inStatement)}`;
    const terms = [...rolledUp, tail(pending)].map((q) => sql`COALESCE((${q}), 0)`);
    const row = await db.get<{ total: string; watermark: number | string }>(sql`SELECT CAST(${sql.join(terms, sql` + `)} AS TEXT) AS total, ${inStatement} AS watermark`);
    if (Number(row!.watermark) >= before) return BigInt(row!.total);
  }
}
