import type pg from "pg";

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

/** job_state row holding the watermark: the lowest commit_xid not rolled up. */
const ROLLUP_XID_WATERMARK = "rollup_xid_watermark";
/** Transaction-level advisory lock key: one rollup at a time across all instances. */
const ROLLUP_LOCK = 7_316_000_002;

/** [from, to) of commit_xid: the rows one rollup step takes. */
export interface XidRange {
  from: number;
  to: number;
}

/** The xmin of a fresh snapshot: every transaction with a lower id has finished. */
async function finishedBelow(client: pg.ClientBase): Promise<number> {
  const r = await client.query<{ xmin: number }>("SELECT pg_snapshot_xmin(pg_current_snapshot())::text::bigint AS xmin");
  return r.rows[0]!.xmin;
}

/** The watermark as committed (0 before the first rollup: every row is above it). */
async function readWatermark(client: pg.ClientBase, forUpdate = false): Promise<number> {
  const r = await client.query<{ value: number }>(`SELECT value FROM job_state WHERE name = $1${forUpdate ? " FOR UPDATE" : ""}`, [ROLLUP_XID_WATERMARK]);
  return r.rows[0]?.value ?? 0;
}

export interface RollupStep {
  /** Calls added to the rollups. */
  calls: number;
  range: XidRange;
  /** True when the step reached xmin: nothing committed is left past the watermark. */
  caughtUp: boolean;
}

/**
 * Where a step that takes at most `maxRows` rows from `from` ends, at most at `to`: the commit_xid
 * of the first row past them. Any boundary at or below xmin is closed too (every transaction below
 * it has finished). A step never splits a transaction's rows, so when the first transaction alone
 * holds more than `maxRows`, the step takes it whole.
 */
async function stepEnd(client: pg.ClientBase, from: number, to: number, maxRows: number): Promise<number> {
  const r = await client.query<{ first: number | null; next: number | null }>(
    `SELECT (SELECT MIN(commit_xid) FROM calls WHERE commit_xid >= $1 AND commit_xid < $2) AS first,
            (SELECT commit_xid FROM calls WHERE commit_xid >= $1 AND commit_xid < $2 ORDER BY commit_xid OFFSET $3 LIMIT 1) AS next`,
    [from, to, maxRows],
  );
  const { first, next } = r.rows[0]!;
  if (first === null || next === null) return to;
  const end = Math.max(next, first + 1);
  // Nothing past a whole oversized transaction: the step is the last, so it reaches xmin.
  const more = await client.query<{ more: boolean }>("SELECT EXISTS (SELECT 1 FROM calls WHERE commit_xid >= $1 AND commit_xid < $2) AS more", [end, to]);
  return more.rows[0]!.more ? end : to;
}

/**
 * One rollup step: in one transaction, hand `addRange` the rows in [watermark, xmin), or the
 * first `maxRows` of them (whole transactions, see stepEnd), and move the watermark to the end of that range. Returns null
 * without waiting when another instance's rollup holds the lock (its tick does the work; this one
 * would find nothing left). `addRange` must read calls only through the range it is given
 * (`commit_xid >= $from AND commit_xid < $to`).
 */
export async function rollUpCommitted(
  pool: pg.Pool,
  addRange: (client: pg.ClientBase, range: XidRange) => Promise<number>,
  maxRows = Number.MAX_SAFE_INTEGER,
): Promise<RollupStep | null> {
  const client = await pool.connect();
  try {
    await client.query("BEGIN");
    try {
      const locked = await client.query<{ ok: boolean }>("SELECT pg_try_advisory_xact_lock($1) AS ok", [ROLLUP_LOCK]);
      if (!locked.rows[0]!.ok) {
        await client.query("ROLLBACK");
        return null;
      }
      // xmin first: the range must be closed before any of it is read. This transaction has no
      // id of its own yet (it has written nothing), so it does not hold xmin back itself.
      const xmin = await finishedBelow(client);
      await client.query("INSERT INTO job_state (name, value) VALUES ($1, 0) ON CONFLICT (name) DO NOTHING", [ROLLUP_XID_WATERMARK]);
      const from = await readWatermark(client, true);
      if (xmin <= from) {
        await client.query("COMMIT");
        return { calls: 0, range: { from, to: from }, caughtUp: true };
      }
      const to = maxRows === Number.MAX_SAFE_INTEGER ? xmin : await stepEnd(client, from, xmin, maxRows);
      const calls = await addRange(client, { from, to });
      await client.query("UPDATE job_state SET value = $2 WHERE name = $1", [ROLLUP_XID_WATERMARK, to]);
      await client.query("COMMIT");
      return { calls, range: { from, to }, caughtUp: to === xmin };
    } catch (err) {
      await client.query("ROLLBACK").catch(() => {});
      throw err;
    }
  } finally {
    client.release();
  }
}

/**
 * Run `read` in one REPEATABLE READ snapshot with the watermark of that snapshot: the rollups it
 * reads then hold exactly the rows below the watermark, and `commit_xid >= watermark` selects
 * exactly the rest (the fresh tail). A rollup commits its rows and the watermark together, so
 * a snapshot sees both before or both after it.
 */
export async function inUsageSnapshot<T>(pool: pg.Pool, read: (client: pg.ClientBase, watermark: number) => Promise<T>): Promise<T> {
  const client = await pool.connect();
  try {
    await client.query("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY");
    try {
      const result = await read(client, await readWatermark(client));
      await client.query("COMMIT");
      return result;
    } catch (err) {
      await client.query("ROLLBACK").catch(() => {});
      throw err;
    }
  } finally {
    client.release();
  }
}
