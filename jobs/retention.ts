import { sql } from "drizzle-orm";
import type { Db } from "../server/db/database.ts";
import { RETENTION_HORIZON, ROLLUP_WATERMARK, readState, writeState } from "../server/job-runs/job-state.ts";
import { recordJobRun } from "../server/job-runs/job-runs.ts";
import { DAY_MS, floorToBucket } from "../server/time.ts";
import { dropCallMonths } from "../server/usage/rollups/postgres/drop-months.ts";
import { runRollup } from "./rollup.ts";

// Retention: raw bodies after RETENTION_BODIES_DAYS, raw calls after RETENTION_CALLS_DAYS.
// Rollups (every level: 15-minute, hourly, daily) are kept forever, and only calls already
// rolled up (id <= watermark) are deleted, so every total the usage API gives stays the same
// after a run. The horizon is 15-minute aligned, not hour or day aligned: a rebuild therefore
// sums the hours and days around it from the finer rollups, never from the calls that are left.
// On PostgreSQL calls are partitioned by month and retention drops whole months instead
// (dropCallMonths): no DELETE of millions of rows, and the horizon is the start of a month.

// Deleting in chunks keeps each write transaction short, so the recorder is never blocked for
// long (it would queue, not drop, but dashboards should not stall either).
const CHUNK = 10_000;

export interface RetentionOptions {
  bodiesDays: number;
  callsDays: number;
}

export interface RetentionResult {
  bodiesDeleted: number;
  callsDeleted: number;
  bodiesBefore: number;
  callsBefore: number;
}

export async function runRetention(db: Db, now: number, opts: RetentionOptions): Promise<RetentionResult> {
  await runRollup(db, now); // so every call old enough to go is below the watermark
  const bodiesBefore = now - opts.bodiesDays * DAY_MS;
  // Bucket-aligned: every bucket is then wholly before the horizon (calls may be gone) or after it.
  const callsBefore = floorToBucket(now - opts.callsDays * DAY_MS);

  // Walk call_bodies (failed calls of the last RETENTION_BODIES_DAYS, small), not calls: old calls
  // without bodies pile up for RETENTION_CALLS_DAYS and would be rescanned on every run.
  // CROSS JOIN keeps that join order in SQLite.
  const chunk = sql.raw(String(CHUNK));
  const deleteBodiesChunk = async (tx: Db) =>
    (
      await tx.run(sql`DELETE FROM call_bodies WHERE call_id IN (
       SELECT b.call_id FROM call_bodies b CROSS JOIN calls c WHERE c.id = b.call_id AND c.created_at < ${bodiesBefore} LIMIT ${chunk})`)
    ).changes;
  const deleteCallsChunk = async (tx: Db) => {
    const watermark = await readState(tx, ROLLUP_WATERMARK);
    const { changes } = await tx.run(sql`DELETE FROM calls WHERE id IN (SELECT id FROM calls WHERE created_at < ${callsBefore} AND id <= ${watermark} LIMIT ${chunk})`);
    if (changes > 0) await writeState(tx, RETENTION_HORIZON, Math.max(await readState(tx, RETENTION_HORIZON), callsBefore));
    return changes;
  };

  const work = async (): Promise<RetentionResult> => {
    let bodiesDeleted = 0;
    let callsDeleted = 0;
    let n: number;
    do bodiesDeleted += n = await db.transaction(deleteBodiesChunk, { immediate: true });
    while (n === CHUNK);
    if (db.dialect === "postgres") {
      const dropped = await dropCallMonths(db, callsBefore);
      return { bodiesDeleted, callsDeleted: dropped.calls, bodiesBefore, callsBefore: dropped.horizon };
    }
    // call_bodies rows of deleted calls go with them (ON DELETE CASCADE).
    do callsDeleted += n = await db.transaction(deleteCallsChunk, { immediate: true });
    while (n === CHUNK);
    return { bodiesDeleted, callsDeleted, bodiesBefore, callsBefore };
  };
  return (await recordJobRun(db, "retention", now, work, (r) => r.bodiesDeleted + r.callsDeleted)).result;
}
