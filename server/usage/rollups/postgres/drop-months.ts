import { sql } from "drizzle-orm";
import type { Db } from "../../../db/database.ts";
import { RETENTION_HORIZON, readState, writeState } from "../../../job-runs/job-state.ts";
import { readXidWatermark } from "./commit-watermark.ts";

// Retention of raw calls on PostgreSQL: calls are partitioned by UTC month (migrations-pg/0001),
// and a month whose calls are all older than the cut-off and all rolled up is dropped whole
// (tollbooth_drop_calls_partitions: DETACH and DROP, no dead rows, no vacuum), never deleted row
// by row. The cut-off is therefore the start of a month: calls of the month holding `before` stay
// until that whole month is old enough.
//
// Rows that landed in the default partition (recorded before their month's partition existed:
// a replay of old calls, a clock far off) are first moved into month partitions of their own by
// tollbooth_ensure_calls_partitions, so they are dropped with their month too. In normal
// operation the default partition is empty and this finds nothing.

export interface DroppedMonths {
  /** Calls in the dropped months. */
  calls: number;
  /** The new horizon: every call before it is gone (the end of the last month dropped), or the old one. */
  horizon: number;
}

/** The instant a calls_YYYY_MM partition ends: the next month's start (UTC). */
function monthEnd(partition: string): number {
  const m = /^calls_(\d{4})_(\d{2})$/.exec(partition);
  if (!m) throw new Error(`not a month partition of calls: ${partition}`);
  return Date.UTC(Number(m[1]), Number(m[2]), 1);
}

/** Drop the months of calls that end at or before `before`, once all their calls are rolled up. */
export function dropCallMonths(db: Db, before: number): Promise<DroppedMonths> {
  return db.transaction(async (tx) => {
    for (;;) {
      const stray = await tx.get<{ at: number | null }>(sql`SELECT MIN(created_at) AS at FROM calls_default WHERE created_at < ${before}`);
      if (stray?.at === null || stray?.at === undefined) break;
      await tx.run(sql`SELECT tollbooth_ensure_calls_partitions(${stray.at}, 0)`);
    }
    const watermark = await readXidWatermark(tx);
    const countBefore = async () => (await tx.get<{ n: number }>(sql`SELECT COUNT(*) AS n FROM calls WHERE created_at < ${before}`))!.n;
    const n0 = await countBefore();
    const dropped = await tx.all<{ name: string }>(sql`SELECT tollbooth_drop_calls_partitions(${before}, ${watermark}) AS name`);
    const calls = dropped.length === 0 ? 0 : n0 - (await countBefore());
    let horizon = await readState(tx, RETENTION_HORIZON);
    if (dropped.length > 0) {
      horizon = Math.max(horizon, ...dropped.map((d) => monthEnd(d.name)));
      await writeState(tx, RETENTION_HORIZON, horizon);
    }
    return { calls, horizon };
  });
}
