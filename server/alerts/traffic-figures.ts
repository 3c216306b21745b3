import { sql } from "drizzle-orm";
import type { Db } from "../db/database.ts";
import { floorToBucket } from "../time.ts";
import { notRolledUp } from "../usage/rollups/not-rolled-up.ts";
import { sumRolledUpPlusTail } from "../usage/rollups/rolled-up-plus-tail.ts";
import { levelPieces, ROLLUP_LEVELS } from "../usage/rollups/rollup-levels.ts";

// The figures the traffic alert rules compare, read through the engine-neutral Db.
//
// Error rate and p95 latency over a trailing window are read from calls (calls_created_idx): a
// window is minutes to hours of calls, its edges are not 15-minute aligned, and the rollups keep
// no percentiles. The anomaly rule's past weeks are read from the rollups, which are kept forever
// while calls may be deleted by retention.

/** Calls in [from, to) and how many failed (status ≥ 400 or an error type, as the Failures page counts). */
export async function windowErrors(db: Db, from: number, to: number): Promise<{ calls: number; errors: number }> {
  const row = await db.get<{ calls: number | string; errors: number | string | null }>(
    sql`SELECT COUNT(*) AS calls, SUM(CASE WHEN status >= 400 OR error_type IS NOT NULL THEN 1 ELSE 0 END) AS errors FROM calls WHERE created_at >= ${from} AND created_at < ${to}`,
  );
  return { calls: Number(row?.calls ?? 0), errors: Number(row?.errors ?? 0) };
}

/**
 * The 95th percentile (nearest rank) of the durations of the successful calls in [from, to), the
 * calls the Overview's latency figure counts; failures are left out, since a refused call answers
 * in a millisecond and would pull the percentile down. Both reads share one snapshot (on
 * PostgreSQL only when asked: its default gives each statement its own).
 */
export async function windowP95(db: Db, from: number, to: number): Promise<{ calls: number; p95Ms: number | null }> {
  return db.transaction(async (tx) => {
    const where = sql`created_at >= ${from} AND created_at < ${to} AND status < 400 AND error_type IS NULL`;
    const calls = Number((await tx.get<{ n: number | string }>(sql`SELECT COUNT(*) AS n FROM calls WHERE ${where}`))?.n ?? 0);
    if (calls === 0) return { calls, p95Ms: null };
    const rank = Math.ceil(0.95 * calls); // nearest rank: the smallest value with ≥ 95 % of calls at or below it
    const row = await tx.get<{ d: number | string }>(sql`SELECT duration_ms AS d FROM calls WHERE ${where} ORDER BY duration_ms LIMIT 1 OFFSET ${rank - 1}`);
    return { calls, p95Ms: row ? Number(row.d) : null };
  }, { snapshot: true });
}

// Sums come back as text: a number would lose nano-dollars past 2^53.
const sumOf = async (db: Db, query: ReturnType<typeof sql>): Promise<bigint> => BigInt((await db.get<{ total: string | null }>(query))?.total ?? "0");

/** What all calls in [from, to) cost, summed from calls (for the last hour: exact, whatever its edges). */
export async function recentSpendNano(db: Db, from: number, to: number): Promise<bigint> {
  return sumOf(db, sql`SELECT CAST(COALESCE(SUM(cost_nano), 0) AS TEXT) AS total FROM calls WHERE created_at >= ${from} AND created_at < ${to}`);
}

/**
 * What all calls in [from, to) (15-minute aligned) cost, from the one-dimension rollups: every
 * call has exactly one status class, so the status_class rows of a bucket sum to all its calls.
 * Plus the calls past the rollup watermark, in the same statement, as the budgets read them
 * (rolled-up-plus-tail.ts).
 */
export function rolledUpSpendNano(db: Db, from: number, to: number): Promise<bigint> {
  const rolledUp = levelPieces(from, to).map((piece) => {
    const table = sql.identifier(ROLLUP_LEVELS[piece.level]!.oneDim);
    return sql`SELECT SUM(cost_nano) FROM ${table} WHERE dim = 'status_class' AND bucket_start >= ${piece.start} AND bucket_start < ${piece.end}`;
  });
  return sumRolledUpPlusTail(db, rolledUp, (pending) => sql`SELECT SUM(cost_nano) FROM calls WHERE ${pending} AND created_at >= ${from} AND created_at < ${to}`);
}

/**
 * Start of the 15-minute bucket of the first call recorded, or null: the first bucket the rollups
 * hold (kept forever, while retention deletes calls), or the first call not rolled up yet when
 * that is older (the rollup has not run since it was recorded, or on PostgreSQL waits for an old
 * transaction). A rollup committing between the watermark read and this statement only makes the
 * tail overlap the rollups, which leaves the minimum as it is.
 */
export async function firstRecordedBucket(db: Db): Promise<number | null> {
  const row = await db.get<{ rolled: number | string | null; tail: number | string | null }>(
    sql`SELECT (SELECT MIN(bucket_start) FROM rollup_one_dim_15m WHERE dim = 'status_class') AS rolled,
            (SELECT MIN(created_at) FROM calls WHERE ${await notRolledUp(db)}) AS tail`,
  );
  const firsts = [row?.rolled, row?.tail == null ? null : floorToBucket(Number(row.tail))].filter((v) => v != null).map(Number);
  return firsts.length === 0 ? null : Math.min(...firsts);
}
