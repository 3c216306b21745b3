import { sql } from "drizzle-orm";
import type { Db } from "../../../db/database.ts";
import { aggregate, rebuildRange } from "../bucket-writes.ts";
import type { RollupProgress } from "../buckets.ts";
import { ROLLUP_LEVELS } from "../rollup-levels.ts";
import { FINISHED_BELOW_SQL, commitStep, nextStep, readXidWatermark } from "./commit-watermark.ts";
import { postgresRunner } from "./rollup-runner.ts";

// The PostgreSQL rollup: every level and family from the calls of a commit_xid range
// (commit-watermark.ts), with the same statements as on SQLite (bucket-writes.ts), so a call
// counts the same on either engine. Each function joins the caller's transaction, or runs in one
// of its own.

export function rollupPending(db: Db, maxCalls: number): Promise<RollupProgress> {
  return db.transaction(async (tx) => {
    const step = await nextStep(tx, maxCalls);
    const { from, to } = step.range;
    const calls = from === to ? 0 : (await tx.get<{ n: number }>(sql`SELECT COUNT(*) AS n FROM calls WHERE commit_xid >= ${from} AND commit_xid < ${to}`))!.n;
    if (calls > 0) await aggregate(postgresRunner(tx), ROLLUP_LEVELS, "commit_xid >= ? AND commit_xid < ?", [from, to]);
    await commitStep(tx, step);
    return { calls, watermark: to, caughtUp: step.caughtUp };
  });
}

/** A read of the watermark and of whether a finished transaction's call is at or past it, no write. */
export async function hasNothingToRollUp(db: Db): Promise<RollupProgress | null> {
  const watermark = await readXidWatermark(db);
  const pending = await db.get<{ pending: boolean }>(
    sql`SELECT EXISTS (SELECT 1 FROM calls WHERE commit_xid >= ${watermark} AND commit_xid < ${sql.raw(FINISHED_BELOW_SQL)}) AS pending`,
  );
  return pending!.pending ? null : { calls: 0, watermark, caughtUp: true };
}

export function rebuildBuckets(db: Db, from: number, to: number): Promise<RollupProgress> {
  return db.transaction(async (tx) => {
    const watermark = await readXidWatermark(tx);
    const calls = (await tx.get<{ n: number }>(sql`SELECT COUNT(*) AS n FROM calls WHERE created_at >= ${from} AND created_at < ${to} AND commit_xid < ${watermark}`))!.n;
    await rebuildRange(postgresRunner(tx), from, to, "commit_xid < ?", [watermark]);
    return { calls, watermark, caughtUp: true };
  });
}
