import type pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openPostgres, type PgDb } from "../../../server/db/postgres.ts";
import { inUsageSnapshot, rollUpCommitted } from "../../../server/usage/rollups/postgres/commit-watermark.ts";
import { addRangeToBuckets } from "../../../server/usage/rollups/postgres/finest-buckets.ts";
import { writeCallBatch } from "../../../server/recorder/pg-insert.ts";
import type { CallRecord } from "../../../server/recorder/recorder.ts";
import { prng } from "../prng.ts";
import { createTestDatabase, startThrowawayPostgres, type ThrowawayPostgres } from "../../pg/throwaway-postgres.ts";

// The multi-writer rollup watermark on real PostgreSQL transactions: a call whose id is lower
// than rows already rolled up, committing after them, is rolled up once, and meanwhile every
// snapshot's rollups plus fresh tail equal the raw calls.

let db: PgDb;
let pool: pg.Pool;
let server: ThrowawayPostgres;
// A server of its own, not the run's shared one: the oldest running transaction is a
// cluster-wide horizon (pg_snapshot_xmin), so another test file's open transaction in another
// database would hold these rollups back and the assertions would race the rest of the run.
beforeAll(async () => {
  server = await startThrowawayPostgres();
  db = (await openPostgres((await createTestDatabase(server.adminUrl, "watermark")).url, { poolMax: 12 })).db;
  pool = db.$client;
});
afterAll(async () => {
  await pool.end();
  await server.stop();
});

const T = Date.UTC(2026, 10, 30, 9);
let seq = 0;
function call(costNano: number, over: Partial<CallRecord["call"]> = {}): CallRecord {
  seq++;
  return {
    call: {
      requestId: `wm-${seq}`,
      createdAt: T + (seq % 7) * 600_000,
      model: seq % 3 === 0 ? "m-a" : "m-b",
      endpoint: "/v1/chat/completions",
      status: seq % 5 === 0 ? 500 : 200,
      usageSource: "upstream",
      promptTokens: seq,
      completionTokens: 2 * seq,
      durationMs: 10,
      costNano,
      ...over,
    },
  };
}

interface Totals {
  requests: number;
  cost: number;
  prompt: number;
}

/** In one snapshot: the raw calls, the rollups, and the fresh tail (calls at or past the watermark). */
async function snapshotTotals(): Promise<{ raw: Totals; rolled: Totals; tail: Totals }> {
  const sums = (from: string, requests: string, cost: string, prompt: string) =>
    `SELECT COALESCE(SUM(${requests}), 0) AS requests, COALESCE(SUM(${cost}), 0) AS cost, COALESCE(SUM(${prompt}), 0) AS prompt FROM ${from}`;
  return inUsageSnapshot(pool, async (client, watermark) => ({
    raw: (await client.query<Totals>(sums("calls", "1", "cost_nano", "prompt_tokens"))).rows[0]!,
    rolled: (await client.query<Totals>(sums("rollup_every_dim_15m", "requests", "cost_nano", "prompt_tokens"))).rows[0]!,
    tail: (await client.query<Totals>(`${sums("calls", "1", "cost_nano", "prompt_tokens")} WHERE commit_xid >= $1`, [watermark])).rows[0]!,
  }));
}

function plus(a: Totals, b: Totals): Totals {
  return { requests: a.requests + b.requests, cost: a.cost + b.cost, prompt: a.prompt + b.prompt };
}

const rollup = () => rollUpCommitted(pool, addRangeToBuckets);

describe("rollups by commit_xid with several writers", () => {
  it("rolls up a call whose lower id commits after higher ids were rolled up, exactly once", async () => {
    // Writer A takes an id and stays open, as a slow recorder batch would.
    const slow = await pool.connect();
    await slow.query("BEGIN");
    const late = call(7_000_000_000);
    const a = await slow.query<{ id: number }>(
      `INSERT INTO calls (request_id, created_at, model, endpoint, status, usage_source, prompt_tokens, duration_ms, cost_nano)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id`,
      [late.call.requestId, late.call.createdAt, late.call.model, late.call.endpoint, late.call.status, late.call.usageSource, late.call.promptTokens, late.call.durationMs, late.call.costNano],
    );
    // Writer B commits higher ids meanwhile.
    const fast = await pool.connect();
    await writeCallBatch(fast, [call(1_000), call(2_000), call(3_000)]);
    fast.release();
    const highest = (await pool.query<{ id: number }>("SELECT MAX(id) AS id FROM calls")).rows[0]!.id;
    expect(a.rows[0]!.id).toBeLessThan(highest); // the hazard: an id watermark at `highest` would skip A's row forever

    await rollup();
    let t = await snapshotTotals();
    expect(plus(t.rolled, t.tail)).toEqual(t.raw);
    expect(t.raw.requests).toBe(3);

    await slow.query("COMMIT");
    slow.release();
    t = await snapshotTotals();
    expect(t.raw.requests).toBe(4);
    expect(plus(t.rolled, t.tail)).toEqual(t.raw); // the late row is in the tail, not lost

    const step = await rollup();
    expect(step!.calls).toBeGreaterThanOrEqual(1);
    t = await snapshotTotals();
    expect(t.tail.requests).toBe(0);
    expect(t.rolled).toEqual(t.raw); // every call once: 7,000,006,000 nano-USD
    expect(t.rolled.cost).toBe(7_000_006_000);

    // Nothing left: another rollup adds nothing.
    expect((await rollup())!.calls).toBe(0);
    expect((await snapshotTotals()).rolled).toEqual(t.raw);
  });

  it("stays exact with four writers holding transactions open at random and two instances rolling up", async () => {
    const random = prng(1313).next;
    const stop = { writing: true };
    const snapshots: { raw: Totals; rolledPlusTail: Totals }[] = [];
    const writer = async () => {
      const client = await pool.connect();
      try {
        for (let batch = 0; batch < 12; batch++) {
          const rows = Array.from({ length: 1 + Math.floor(random() * 20) }, () => call(Math.floor(random() * 5e9)));
          await client.query("BEGIN");
          await writeCallBatchInOpenTransaction(client, rows);
          await new Promise((r) => setTimeout(r, random() * 40)); // commit late, out of id order
          await client.query("COMMIT");
        }
      } finally {
        client.release();
      }
    };
    const roller = async () => {
      while (stop.writing) {
        await rollup();
        const t = await snapshotTotals();
        snapshots.push({ raw: t.raw, rolledPlusTail: plus(t.rolled, t.tail) });
        await new Promise((r) => setTimeout(r, random() * 15));
      }
    };
    const rollers = [roller(), roller()];
    await Promise.all([writer(), writer(), writer(), writer()]);
    stop.writing = false;
    await Promise.all(rollers);
    expect(snapshots.length).toBeGreaterThan(5);
    expect(snapshots.filter((x) => JSON.stringify(x.raw) !== JSON.stringify(x.rolledPlusTail))).toEqual([]);
    await rollup();
    const t = await snapshotTotals();
    expect(t.tail.requests).toBe(0);
    expect(t.rolled).toEqual(t.raw);
  });
  it("rolls up in steps of at most maxRows whole transactions, a bigger transaction whole, until caught up", async () => {
    const stepsOf = async (maxRows: number) => {
      const client = await pool.connect();
      try {
        for (let b = 0; b < 3; b++) await writeCallBatch(client, [call(1), call(2), call(3), call(4)]);
      } finally {
        client.release();
      }
      const steps: number[] = [];
      for (;;) {
        const step = await rollUpCommitted(pool, addRangeToBuckets, maxRows);
        steps.push(step!.calls);
        const t = await snapshotTotals();
        expect(plus(t.rolled, t.tail)).toEqual(t.raw);
        if (step!.caughtUp) return steps;
      }
    };
    await rollup();
    expect(await stepsOf(9)).toEqual([8, 4]); // two batches fit in 9 rows, a third would not
    expect(await stepsOf(3)).toEqual([4, 4, 4]); // a batch of 4 is never split
    const t = await snapshotTotals();
    expect(t.tail.requests).toBe(0);
    expect(t.rolled).toEqual(t.raw);
  });
});

/**
 * Rows inserted inside a transaction the caller keeps open (writeCallBatch commits its own), in
 * a savepoint: commit_xid is the top-level transaction's id even from a subtransaction.
 */
async function writeCallBatchInOpenTransaction(client: pg.PoolClient, rows: CallRecord[]): Promise<void> {
  await client.query("SAVEPOINT batch");
  for (const { call: c } of rows) {
    await client.query(
      `INSERT INTO calls (request_id, created_at, model, endpoint, status, usage_source, prompt_tokens, duration_ms, cost_nano)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
      [c.requestId, c.createdAt, c.model, c.endpoint, c.status, c.usageSource, c.promptTokens, c.durationMs, c.costNano],
    );
  }
  await client.query("RELEASE SAVEPOINT batch");
}
