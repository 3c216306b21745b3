import { sql } from "drizzle-orm";
import type { Db } from "../../../db/database.ts";
import { RETENTION_HORIZON, readState, writeState } from "../../../job-runs/job-state.ts";
import { readXidWatermark } from "./commit-watermark.ts";

// Retention of raw calls on PostgreSQL: calls are partitioned by UTC month (migrations-pg/0001,
// 0008), and a month whose calls are all older than the cut-off and all rolled up is dropped
// whole (no dead rows, no vacuum), never deleted row by row. The cut-off is therefore the start
// of a month: calls of the month holding `before` stay until that whole month is old enough.
//
// A month goes in three steps, each safe to run again after a crash before, during or after it:
//  1. Under the partitions' lock, in one transaction: the month is still attached and every row
//     in it is rolled up; the horizon moves to its end. (Early is safe: the horizon only keeps
//     buckets before it from being summed again from raw calls.)
//  2. ALTER TABLE calls DETACH PARTITION … CONCURRENTLY, outside any transaction (PostgreSQL
//     refuses it inside one). It locks calls in SHARE UPDATE EXCLUSIVE mode only, so inserts into
//     the current month and reads carry on; it waits for the transactions that may still read the
//     month. A plain DETACH would queue for ACCESS EXCLUSIVE behind any long read of calls and
//     hold up every insert meanwhile.
//  3. Under the lock: a month table that is no longer attached is dropped with its bodies, unless
//     a call that is not rolled up reached it between steps 1 and 2 (a replayed old call); then it
//     is attached again for a later run.
// A run that stopped mid-way leaves a month pending detach (DETACH … FINALIZE finishes it) or a
// detached table (step 3 drops it); every run starts by finishing those.

export interface DroppedMonths {
  /** Calls in the dropped months. */
  calls: number;
  /** The new horizon: every call before it is gone (the end of the last month dropped), or the old one. */
  horizon: number;
}

/** The transaction-level advisory lock tollbooth_ensure_calls_partitions takes (migrations-pg/0008). */
const PARTITIONS_LOCK = sql`SELECT pg_advisory_xact_lock(hashtext('tollbooth_ensure_calls_partitions'))`;

/** [start, end) of a calls_YYYY_MM table's month (UTC). */
function monthOf(table: string): { start: number; end: number } {
  const m = /^calls_(\d{4})_(\d{2})$/.exec(table);
  if (!m) throw new Error(`not a month table of calls: ${table}`);
  return { start: Date.UTC(Number(m[1]), Number(m[2]) - 1, 1), end: Date.UTC(Number(m[1]), Number(m[2]), 1) };
}

interface MonthTable {
  name: string;
  /** A partition of calls (possibly pending detach). */
  attached: boolean;
  /** Detached CONCURRENTLY by a run that stopped before the detach finished. */
  pending: boolean;
}

/** Every calls_YYYY_MM table, attached or not, oldest first. */
async function monthTables(db: Db): Promise<MonthTable[]> {
  return db.all<MonthTable>(
    sql`SELECT c.relname AS name, i.inhrelid IS NOT NULL AS attached, COALESCE(i.inhdetachpending, false) AS pending
        FROM pg_class c LEFT JOIN pg_inherits i ON i.inhrelid = c.oid AND i.inhparent = 'calls'::regclass
        WHERE c.relkind = 'r' AND pg_table_is_visible(c.oid) AND c.relname ~ '^calls_[0-9]{4}_[0-9]{2}$'
        ORDER BY c.relname`,
  );
}

async function stateOf(db: Db, name: string): Promise<MonthTable | undefined> {
  return (await monthTables(db)).find((t) => t.name === name);
}

/** True when a row of `table` is past the rollup watermark (not in the rollups yet). */
async function holdsPending(tx: Db, table: string): Promise<boolean> {
  const watermark = await readXidWatermark(tx);
  return (await tx.get<{ pending: boolean }>(sql`SELECT EXISTS (SELECT 1 FROM ${sql.identifier(table)} WHERE commit_xid >= ${watermark}) AS pending`))!.pending;
}

/** Step 1: move the horizon to the month's end if it may go; false when it stays. */
async function markForDrop(db: Db, table: string): Promise<boolean> {
  return db.transaction(async (tx) => {
    await tx.run(PARTITIONS_LOCK);
    const state = await stateOf(tx, table);
    if (!state?.attached || state.pending || (await holdsPending(tx, table))) return false;
    await writeState(tx, RETENTION_HORIZON, Math.max(await readState(tx, RETENTION_HORIZON), monthOf(table).end));
    return true;
  });
}

/** Step 2, or the end of an interrupted one: afterwards `table` is no longer a partition of calls. */
async function detach(db: Db, table: string): Promise<void> {
  const name = sql.identifier(table);
  try {
    await db.run(sql`ALTER TABLE calls DETACH PARTITION ${name} CONCURRENTLY`);
  } catch (err) {
    // Another instance's run may have detached it first, or this one was cancelled mid-way.
    const state = await stateOf(db, table);
    if (state?.attached && !state.pending) throw err;
  }
  if ((await stateOf(db, table))?.pending) await db.run(sql`ALTER TABLE calls DETACH PARTITION ${name} FINALIZE`);
}

/** Step 3: drop a detached month table (returns its calls), or attach it again while it holds calls not rolled up. */
async function dropDetached(db: Db, table: string): Promise<number> {
  return db.transaction(async (tx) => {
    await tx.run(PARTITIONS_LOCK);
    const state = await stateOf(tx, table);
    // Gone (another instance dropped it), or attached again (a call of its month was written).
    if (!state || state.attached) return 0;
    const name = sql.identifier(table);
    if (await holdsPending(tx, table)) {
      const { start, end } = monthOf(table);
      await tx.run(sql`ALTER TABLE calls ATTACH PARTITION ${name} FOR VALUES FROM (${sql.raw(String(start))}) TO (${sql.raw(String(end))})`);
      return 0;
    }
    const calls = Number((await tx.get<{ n: number | string }>(sql`SELECT COUNT(*) AS n FROM ${name}`))!.n);
    await tx.run(sql`DELETE FROM call_bodies b USING ${name} c WHERE b.call_id = c.id`);
    await tx.run(sql`DROP TABLE ${name}`);
    return calls;
  });
}

/** Drop the months of calls that end at or before `before`, once all their calls are rolled up. */
export async function dropCallMonths(db: Db, before: number): Promise<DroppedMonths> {
  let calls = 0;
  // What a run that stopped mid-way left: months pending detach, detached tables not dropped.
  for (const t of await monthTables(db)) {
    if (t.pending) await detach(db, t.name);
    if (t.pending || !t.attached) calls += await dropDetached(db, t.name);
  }
  for (const t of await monthTables(db)) {
    if (!t.attached || t.pending || monthOf(t.name).end > before) continue;
    if (!(await markForDrop(db, t.name))) continue;
    await detach(db, t.name);
    calls += await dropDetached(db, t.name);
  }
  return { calls, horizon: await readState(db, RETENTION_HORIZON) };
}
