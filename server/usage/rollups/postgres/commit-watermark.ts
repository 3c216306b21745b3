import { sql } from "drizzle-orm";
import type { Db } from "../../../db/database.ts";

// The rollup watermark for PostgreSQL, where many instances insert calls at once. On SQLite the
// watermark is a call id: one write transaction at a time means every id below the newest one is
// committed. Here ids come from a sequence before commit, so a lower id can become visible after
// a higher one was rolled up, and would be missed by both the rollups and the fresh tail.
//
// Instead each row carries the 64-bit id of the transaction that inserted it (calls.commit_xid,
// a column default), and the watermark is a transaction id: every row with commit_xid below the
// watermark is in the rollups, every row at or above it is not. A rollup moves the watermark up
// to the xmin of a fresh snapshot, the oldest transaction that may still be running: every
// transaction below it has finished, committed or rolled back, so the rows in
// [watermark, xmin) are all visible now and no row can ever join that range later. Rows of
// transactions still running (a slow batch, a low id committing late) stay at or above the new
// watermark and are taken by a later rollup. Nothing is missed or counted twice, whatever the
// commit order, at no extra write per row and no lock between writers. The cost: a transaction
// left open anywhere on the server holds xmin, and so the watermark, back (the tail grows but
// stays correct), hence idle_in_transaction_session_timeout in the deployment notes.
// A re-price updates cost_nano in place; the row keeps its commit_xid, so it stays on its side
// of the watermark.

/** job_state row holding the watermark: the lowest commit_xid not rolled up. */
export const ROLLUP_XID_WATERMARK = "rollup_xid_watermark";
/**
 * Transaction-level advisory lock key: one rollup (or rebuild) at a time across all instances. Not
 * the key of the Db's immediate transactions: a rollup must not hold up budget leases.
 */
export const ROLLUP_LOCK = 7_316_000_003;

/** [from, to) of commit_xid: the rows one rollup step takes. */
interface XidRange {
  from: number;
  to: number;
}

/** SQL for the xmin of the statement's snapshot: every transaction with a lower id has finished. */
export const FINISHED_BELOW_SQL = "pg_snapshot_xmin(pg_current_snapshot())::text::bigint";

/** The watermark as committed (0 before the first rollup: every row is above it). */
export async function readXidWatermark(db: Db): Promise<number> {
  const row = await db.get<{ value: number }>(sql`SELECT value FROM job_state WHERE name = ${ROLLUP_XID_WATERMARK}`);
  return row?.value ?? 0;
}

/**
 * Where a step that takes at most `maxRows` rows from `from` ends, at most at `to`: the commit_xid
 * of the first row past them. Any boundary at or below xmin is closed too (every transaction below
 * it has finished). A step never splits a transaction's rows, so when the first transaction alone
 * holds more than `maxRows`, the step takes it whole.
 */
async function stepEnd(db: Db, from: number, to: number, maxRows: number): Promise<number> {
  const r = await db.get<{ first: number | null; next: number | null }>(
    sql`SELECT (SELECT MIN(commit_xid) FROM calls WHERE commit_xid >= ${from} AND commit_xid < ${to}) AS first,
            (SELECT commit_xid FROM calls WHERE commit_xid >= ${from} AND commit_xid < ${to} ORDER BY commit_xid OFFSET ${maxRows} LIMIT 1) AS next`,
  );
  const { first, next } = r!;
  if (first === null || next === null) return to;
  const end = Math.max(next, first + 1);
  // Nothing past a whole oversized transaction: the step is the last, so it reaches xmin.
  const more = await db.get<{ more: boolean }>(sql`SELECT EXISTS (SELECT 1 FROM calls WHERE commit_xid >= ${end} AND commit_xid < ${to}) AS more`);
  return more!.more ? end : to;
}

export interface XidStep {
  /** The rows this step takes (empty when from === to). */
  range: XidRange;
  /** True when the step reaches xmin: nothing committed is left past the watermark. */
  caughtUp: boolean;
}

/**
 * In the caller's transaction: take the rollup lock (waiting for a rollup in progress elsewhere,
 * whose work this one then finds done), and the range of the next step: [watermark, xmin), or
 * its first `maxRows` rows in whole transactions (stepEnd). The caller adds exactly the rows of
 * that range to the rollups (`commit_xid >= from AND commit_xid < to`), then commitStep.
 */
export async function nextStep(db: Db, maxRows: number): Promise<XidStep> {
  await db.run(sql`SELECT pg_advisory_xact_lock(${ROLLUP_LOCK})`);
  // xmin after the lock: a rollup that held it has committed, and its watermark is read below.
  // This statement's snapshot is taken before anything of the range is read, so the range is
  // closed before it is summed. (A transaction that has written nothing has no id of its own
  // and does not hold xmin back itself.)
  const xmin = (await db.get<{ xmin: number }>(sql.raw(`SELECT ${FINISHED_BELOW_SQL} AS xmin`)))!.xmin;
  await db.run(sql`INSERT INTO job_state (name, value) VALUES (${ROLLUP_XID_WATERMARK}, 0) ON CONFLICT (name) DO NOTHING`);
  const from = (await db.get<{ value: number }>(sql`SELECT value FROM job_state WHERE name = ${ROLLUP_XID_WATERMARK} FOR UPDATE`))!.value;
  if (xmin <= from) return { range: { from, to: from }, caughtUp: true };
  const to = maxRows === Number.MAX_SAFE_INTEGER ? xmin : await stepEnd(db, from, xmin, maxRows);
  return { range: { from, to }, caughtUp: to === xmin };
}

/** Move the watermark to the end of a step, in the transaction that rolled the step up. */
export async function commitStep(db: Db, step: XidStep): Promise<void> {
  if (step.range.to !== step.range.from) await db.run(sql`UPDATE job_state SET value = ${step.range.to} WHERE name = ${ROLLUP_XID_WATERMARK}`);
}

/**
 * Run `read` in one REPEATABLE READ snapshot with the watermark of that snapshot: the rollups it
 * reads then hold exactly the rows below the watermark, and `commit_xid >= watermark` selects
 * exactly the rest (the fresh tail). A rollup commits its rows and the watermark together, so
 * a snapshot sees both before or both after it. Call it on a Db that is not in a transaction
 * yet (the snapshot is set at BEGIN). `local`: SET LOCAL settings sent with that BEGIN.
 */
export function inUsageSnapshot<T>(db: Db, read: (tx: Db, watermark: number) => Promise<T>, local?: Record<string, string>): Promise<T> {
  return db.transaction(async (tx) => read(tx, await readXidWatermark(tx)), { snapshot: true, ...(local ? { local } : {}) });
}
