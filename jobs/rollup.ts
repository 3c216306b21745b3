import type { Db } from "../server/db/database.ts";
import { hasNothingToRollUp, rebuildBuckets, rollupPending, type RollupProgress } from "../server/usage/rollups/buckets.ts";
import { RETENTION_HORIZON, readState } from "../server/job-runs/job-state.ts";
import { recordJobRun, startJobRun } from "../server/job-runs/job-runs.ts";

// The rollup job: calls → the rollup levels (rollup_every_dim_15m, rollup_no_key_user_15m and
// rollup_one_dim_15m at 15 minutes, hours and days, the two-dimension rollups at hours and days; see
// server/usage/rollups/buckets.ts), incremental by call id. Each run is one BEGIN
// IMMEDIATE transaction: it takes SQLite's write lock before reading the watermark, so a second
// run (in this process or another one on the same file) waits (busy_timeout) and then sees the
// advanced watermark. Two runs can never aggregate the same calls, and all levels move together.
// On PostgreSQL the rollup takes its own advisory lock inside its transaction (the watermark there
// is a transaction id, server/usage/rollups/postgres/commit-watermark.ts), so its transactions are
// not immediate ones: those all take one lock, and a rollup must not hold up budget leases.

/** BEGIN IMMEDIATE on SQLite; on PostgreSQL the rollup locks for itself. */
const rollupLock = (db: Db) => ({ immediate: db.dialect === "sqlite" });

/** Roll every call past the watermark into its bucket. Safe to call at any time, any number of times. */
export async function runRollup(db: Db, now: number): Promise<RollupProgress> {
  const run = () => db.transaction((tx) => rollupPending(tx), rollupLock(db));
  return (await recordJobRun(db, "rollup", now, run, (r) => r.calls)).result;
}

/**
 * The scheduler's rollup: the same work in transactions of at most `stepIds` calls, yielding to
 * the event loop between them. It runs every few seconds (ROLLUP_CRON) so the fresh tail the usage
 * query reads from raw calls stays a few seconds of traffic; a tick with nothing past the
 * watermark costs two index lookups and writes nothing (no write lock, no job_runs row: a quiet
 * tick is not news). better-sqlite3 is synchronous and the rollup aggregates at roughly
 * 16 µs per call (bench:spend at 10M calls; 14 µs without the two-dimension family, 26 µs when it had a
 * 15-minute level), so a minute of traffic at 2,000 calls/s in one go would stall proxied streams
 * for seconds; steps of 10,000 keep each pause around 0.15–0.2 s (19 µs per call on the same
 * data; steps of 5,000 halve the pause but cost ~20 % more per call). Logged as one run.
 */
export async function runRollupInSteps(db: Db, now: number, stepIds = 10_000): Promise<RollupProgress> {
  const idle = await hasNothingToRollUp(db);
  if (idle) return idle;
  const run = await startJobRun(db, "rollup", now);
  let calls = 0;
  try {
    for (;;) {
      const progress = await db.transaction((tx) => rollupPending(tx, stepIds), rollupLock(db));
      calls += progress.calls;
      if (progress.caughtUp) {
        await run.succeed(calls);
        return { ...progress, calls };
      }
      await new Promise((resolve) => setImmediate(resolve));
    }
  } catch (err) {
    await run.fail(err);
    throw err;
  }
}

/**
 * Rebuild the buckets from raw calls, in one transaction (readers see the old or the new
 * buckets, never a mix). Buckets before the retention horizon are kept: their calls are gone.
 */
export async function runRollupRebuild(db: Db, now: number): Promise<RollupProgress & { from: number }> {
  const rebuild = async (tx: Db) => {
    await rollupPending(tx);
    const from = await readState(tx, RETENTION_HORIZON);
    return { ...(await rebuildBuckets(tx, from, Number.MAX_SAFE_INTEGER)), from };
  };
  const run = () => db.transaction(rebuild, rollupLock(db));
  return (await recordJobRun(db, "rollup-rebuild", now, run, (r) => r.calls)).result;
}
