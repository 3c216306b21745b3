import type pg from "pg";
import { sql } from "drizzle-orm";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { connectDatabase } from "../../server/db/connect.ts";
import type { Db } from "../../server/db/database.ts";
import { writeCallBatch } from "../../server/recorder/pg-insert.ts";
import { ROLLUP_XID_WATERMARK } from "../../server/usage/rollups/postgres/commit-watermark.ts";
import { dropCallMonths } from "../../server/usage/rollups/postgres/drop-months.ts";
import { testDatabaseUrl, testPool } from "../pg/database.ts";

// Retention on PostgreSQL drops whole months of calls (server/usage/rollups/postgres/drop-months.ts)
// with DETACH … CONCURRENTLY, on the real server: inserts into the current month carry on while an
// old month waits to be detached behind a long read of calls, and a run that stopped between its
// steps is finished by the next one. Other sessions' locks make each interleaving deterministic.

let db: Db;
let pool: pg.Pool;
beforeAll(async () => {
  const url = await testDatabaseUrl("retention");
  db = await connectDatabase(url, { poolMax: 4 });
  pool = testPool(url, 4);
});
afterAll(async () => {
  await pool.end();
  await db.close();
});

const MAR_2020 = Date.UTC(2020, 2, 1);
const JAN = "calls_2020_01";
let seq = 0;

/** Write calls at these instants through the recorder's batch write (it makes their months). */
async function record(...instants: number[]): Promise<string[]> {
  const ids = instants.map(() => `ret-${++seq}`);
  const client = await pool.connect();
  try {
    await writeCallBatch(
      client,
      instants.map((createdAt, i) => ({ call: { requestId: ids[i]!, createdAt, endpoint: "/v1/chat/completions", status: 200, usageSource: "upstream" as const, durationMs: 5 } })),
    );
  } finally {
    client.release();
  }
  return ids;
}

/** As a rollup would: every call committed so far is in the rollups. */
async function rollEverythingUp(): Promise<void> {
  const next = (await pool.query<{ x: string }>("SELECT pg_current_xact_id()::text AS x")).rows[0]!.x;
  await pool.query("INSERT INTO job_state (name, value) VALUES ($1, $2) ON CONFLICT (name) DO UPDATE SET value = excluded.value", [ROLLUP_XID_WATERMARK, next]);
}

async function month(table: string): Promise<{ attached: boolean; pending: boolean } | null> {
  const r = await pool.query<{ attached: boolean; pending: boolean }>(
    `SELECT i.inhrelid IS NOT NULL AS attached, COALESCE(i.inhdetachpending, false) AS pending
     FROM pg_class c LEFT JOIN pg_inherits i ON i.inhrelid = c.oid WHERE c.relname = $1`,
    [table],
  );
  return r.rows[0] ?? null;
}

/** A session that read calls and keeps its transaction open (a long report, a slow dashboard). */
async function longRead(): Promise<pg.PoolClient> {
  const reader = await pool.connect();
  await reader.query("BEGIN");
  await reader.query("SELECT COUNT(*) FROM calls");
  return reader;
}

/** Until a DETACH of this database waits for a lock. */
async function untilDetachWaits(): Promise<void> {
  for (let i = 0; i < 500; i++) {
    const r = await pool.query<{ n: number }>(
      "SELECT COUNT(*)::int AS n FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock' AND query ILIKE '%DETACH PARTITION%'",
    );
    if (r.rows[0]!.n > 0) return;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  throw new Error("no DETACH ever waited");
}

beforeEach(async () => {
  // Every test starts with January 2020 holding two rolled-up calls, one with a body.
  if ((await month(JAN)) === null) {
    const [withBody] = await record(Date.UTC(2020, 0, 10), Date.UTC(2020, 0, 20));
    await pool.query("INSERT INTO call_bodies (call_id, request_body) SELECT id, '{}' FROM calls WHERE request_id = $1", [withBody]);
  }
  await rollEverythingUp();
});

describe("retention's month drops on PostgreSQL", () => {
  it("lets inserts into the current month through while an old month waits to be detached behind a long read", async () => {
    const reader = await longRead();
    const dropping = dropCallMonths(db, MAR_2020);
    dropping.catch(() => {});
    await untilDetachWaits();
    // A plain DETACH would queue for an ACCESS EXCLUSIVE lock on calls here, and this insert behind it.
    const writer = await pool.connect();
    try {
      await writer.query("SET statement_timeout = '3s'");
      const now = Date.now();
      const t0 = performance.now();
      await writer.query(
        "INSERT INTO calls (request_id, created_at, endpoint, status, usage_source, duration_ms) VALUES ('during-detach', $1, '/v1/chat/completions', 200, 'upstream', 5)",
        [now],
      );
      expect(performance.now() - t0).toBeLessThan(3_000);
    } finally {
      writer.release();
    }
    expect(await month(JAN)).toMatchObject({ pending: true }); // still waiting for the reader
    await reader.query("COMMIT");
    reader.release();
    expect(await dropping).toMatchObject({ calls: 2, horizon: Date.UTC(2020, 1, 1) });
    expect(await month(JAN)).toBeNull();
    expect((await pool.query("SELECT COUNT(*)::int AS n FROM call_bodies")).rows[0].n).toBe(0);
    expect((await pool.query("SELECT COUNT(*)::int AS n FROM calls WHERE request_id = 'during-detach'")).rows[0].n).toBe(1);
  });

  it("finishes a month left pending detach by a run that died mid-way (DETACH … FINALIZE), then drops it", async () => {
    const reader = await longRead();
    const killed = await pool.connect();
    const pid = (await killed.query<{ pid: number }>("SELECT pg_backend_pid() AS pid")).rows[0]!.pid;
    const detaching = killed.query(`ALTER TABLE calls DETACH PARTITION ${JAN} CONCURRENTLY`).catch((err: Error) => err);
    await untilDetachWaits();
    await pool.query("SELECT pg_terminate_backend($1)", [pid]);
    expect(String(await detaching)).toContain("terminating connection");
    killed.release(true);
    await reader.query("COMMIT");
    reader.release();
    expect(await month(JAN)).toEqual({ attached: true, pending: true });

    expect((await dropCallMonths(db, MAR_2020)).calls).toBe(2);
    expect(await month(JAN)).toBeNull();
  });

  it("drops a month a run detached but did not drop", async () => {
    await pool.query(`ALTER TABLE calls DETACH PARTITION ${JAN}`);
    expect(await month(JAN)).toEqual({ attached: false, pending: false });
    expect((await dropCallMonths(db, MAR_2020)).calls).toBe(2);
    expect(await month(JAN)).toBeNull();
  });

  it("attaches such a month again, rows and all, when a call of that month is written before the next run", async () => {
    await pool.query(`ALTER TABLE calls DETACH PARTITION ${JAN}`);
    const [late] = await record(Date.UTC(2020, 0, 25));
    expect(await month(JAN)).toEqual({ attached: true, pending: false });
    expect((await pool.query("SELECT COUNT(*)::int AS n FROM calls WHERE created_at < $1", [Date.UTC(2020, 1, 1)])).rows[0].n).toBe(3);
    expect((await pool.query("SELECT COUNT(*)::int AS n FROM calls WHERE request_id = $1", [late])).rows[0].n).toBe(1);
  });

  it("keeps a month that a call not rolled up reached between the check and the detach", async () => {
    // SHARE UPDATE EXCLUSIVE holds the DETACH back (it takes the same lock) but not inserts.
    const holder = await pool.connect();
    await holder.query("BEGIN");
    await holder.query("LOCK TABLE calls IN SHARE UPDATE EXCLUSIVE MODE");
    const dropping = dropCallMonths(db, MAR_2020);
    dropping.catch(() => {});
    await untilDetachWaits();
    const [late] = await record(Date.UTC(2020, 0, 28));
    await holder.query("COMMIT");
    holder.release();
    expect((await dropping).calls).toBe(0);
    expect(await month(JAN)).toEqual({ attached: true, pending: false });
    expect((await db.get<{ n: number }>(sql`SELECT COUNT(*) AS n FROM calls WHERE request_id = ${late!}`))!.n).toBe(1);

    // Once rolled up, the next run drops it.
    await rollEverythingUp();
    expect((await dropCallMonths(db, MAR_2020)).calls).toBeGreaterThan(0);
    expect(await month(JAN)).toBeNull();
  });
});
