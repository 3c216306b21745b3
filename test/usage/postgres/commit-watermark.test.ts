import type pg from "pg";
import { sql } from "drizzle-orm";
import { beforeAll, describe, expect, it } from "vitest";
import { runRollup, runRollupInSteps } from "../../../jobs/rollup.ts";
import { connectDatabase } from "../../../server/db/connect.ts";
import type { Db } from "../../../server/db/database.ts";
import { writeCallBatch } from "../../../server/recorder/pg-insert.ts";
import type { CallRecord } from "../../../server/recorder/recorder.ts";
import { rollupPending } from "../../../server/usage/rollups/buckets.ts";
import { inUsageSnapshot } from "../../../server/usage/rollups/postgres/commit-watermark.ts";
import { ROLLUP_LEVELS } from "../../../server/usage/rollups/rollup-levels.ts";
import { queryUsage } from "../../../server/usage/usage-query.ts";
import { prng } from "../prng.ts";
import { ownPostgres } from "../../pg/database.ts";

// The multi-writer rollup watermark on real PostgreSQL transactions: a call whose id is lower
// than rows already rolled up, committing after them, is rolled up once, and meanwhile every
// snapshot's rollups (every level of every family) plus fresh tail equal the raw calls, and so
// does what the usage query answers.

const T = Date.UTC(2026, 10, 30, 9);
// A server of its own, not the run's shared one (see ownPostgres).
const own = ownPostgres({ prefix: "watermark", month: T, poolMax: 8, plainPoolMax: 8 });
let db: Db;
let pool: pg.Pool;
let url: string;
beforeAll(() => {
  ({ db, pool, url } = own);
});

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

/** Every rollup table at every level, each holding every call once (one dim, one pair of each). */
const ROLLUP_SOURCES = ROLLUP_LEVELS.flatMap((l) => [
  l.everyDim,
  l.noKeyUser,
  `${l.oneDim} WHERE dim = 'status_class'`,
  `${l.oneDim} WHERE dim = 'model'`,
  ...(l.twoDims ? [`${l.twoDims} WHERE pair = 'model,status_class'`, `${l.twoDims} WHERE pair = 'key_id,user'`] : []),
]);

/** In one snapshot: the raw calls, each rollup table, and the fresh tail (calls at or past the watermark). */
async function snapshotTotals(): Promise<{ raw: Totals; rolled: Totals[]; tail: Totals }> {
  const sums = (from: string, requests: string, cost: string, prompt: string) =>
    `SELECT COALESCE(SUM(${requests}), 0) AS requests, COALESCE(SUM(${cost}), 0) AS cost, COALESCE(SUM(${prompt}), 0) AS prompt FROM ${from}`;
  return inUsageSnapshot(db, async (tx, watermark) => {
    const rolled: Totals[] = [];
    for (const source of ROLLUP_SOURCES) rolled.push((await tx.get<Totals>(sql.raw(sums(source, "requests", "cost_nano", "prompt_tokens"))))!);
    return {
      raw: (await tx.get<Totals>(sql.raw(sums("calls", "1", "cost_nano", "prompt_tokens"))))!,
      rolled,
      tail: (await tx.get<Totals>(sql.raw(`${sums("calls", "1", "cost_nano", "prompt_tokens")} WHERE commit_xid >= ${watermark}`)))!,
    };
  });
}

function plus(a: Totals, b: Totals): Totals {
  return { requests: a.requests + b.requests, cost: a.cost + b.cost, prompt: a.prompt + b.prompt };
}

/** Every rollup table plus the tail equals the raw calls. */
function expectExact(t: Awaited<ReturnType<typeof snapshotTotals>>): void {
  expect(t.rolled.map((r) => plus(r, t.tail))).toEqual(ROLLUP_SOURCES.map(() => t.raw));
}

/** What GET /api/usage answers for the whole day of the test's calls: requests and nano-USD. */
async function usageTotals(): Promise<{ requests: bigint; cost: bigint }> {
  const day = Date.UTC(2026, 10, 30);
  const r = await queryUsage(db, { from: day, to: day + 86_400_000, tz: "UTC", groupBy: ["hour", "model"] });
  return { requests: r.totals.requests, cost: r.totals.costNano };
}

async function insertOne(client: pg.PoolClient, c: CallRecord): Promise<number> {
  const r = await client.query<{ id: string }>(
    `INSERT INTO calls (request_id, created_at, model, endpoint, status, usage_source, prompt_tokens, completion_tokens, duration_ms, cost_nano)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) RETURNING id`,
    [c.call.requestId, c.call.createdAt, c.call.model, c.call.endpoint, c.call.status, c.call.usageSource, c.call.promptTokens, c.call.completionTokens, c.call.durationMs, c.call.costNano],
  );
  return Number(r.rows[0]!.id);
}

describe("rollups by commit_xid with several writers", () => {
  it("rolls up a call whose lower id commits after higher ids, exactly once; the usage query shows it once meanwhile", async () => {
    const early = await pool.connect();
    await writeCallBatch(early, [call(500)]); // committed before anything below begins
    early.release();
    // Writer A takes an id and stays open, as a slow recorder batch on another instance would.
    const slow = await pool.connect();
    await slow.query("BEGIN");
    const lowId = await insertOne(slow, call(7_000_000_000));
    // Writer B, on another connection, commits higher ids meanwhile.
    const fast = await pool.connect();
    await writeCallBatch(fast, [call(1_000), call(2_000), call(3_000)]);
    fast.release();
    const highest = (await pool.query<{ id: string }>("SELECT MAX(id) AS id FROM calls")).rows[0]!.id;
    expect(lowId).toBeLessThan(Number(highest)); // the hazard: an id watermark at `highest` would skip A's row forever

    // The rollup takes what every writer has finished with: the early call. B's calls began
    // after A, so they wait in the tail until A ends (else A's row would fall behind the watermark).
    expect((await runRollup(db, T)).calls).toBe(1);
    let t = await snapshotTotals();
    expectExact(t);
    expect([t.raw.requests, t.tail.requests]).toEqual([4, 3]);
    expect(await usageTotals()).toEqual({ requests: 4n, cost: 6_500n });

    await slow.query("COMMIT");
    slow.release();
    t = await snapshotTotals();
    expect([t.raw.requests, t.tail.requests]).toEqual([5, 4]); // the late row is in the fresh tail, not lost
    expectExact(t);
    expect(await usageTotals()).toEqual({ requests: 5n, cost: 7_000_006_500n }); // and shown once

    expect((await runRollup(db, T)).calls).toBe(4);
    t = await snapshotTotals();
    expect(t.tail.requests).toBe(0);
    expect(t.rolled).toEqual(ROLLUP_SOURCES.map(() => t.raw)); // every call once: 7,000,006,500 nano-USD
    expect(t.raw.cost).toBe(7_000_006_500);
    expect(await usageTotals()).toEqual({ requests: 5n, cost: 7_000_006_500n });

    // Nothing left: another rollup adds nothing.
    expect((await runRollup(db, T)).calls).toBe(0);
    expect((await snapshotTotals()).rolled).toEqual(ROLLUP_SOURCES.map(() => t.raw));
  });

  it("stays exact with four writers holding transactions open at random and two instances rolling up in steps", async () => {
    const random = prng(1313).next;
    const stop = { writing: true };
    const mismatches: unknown[] = [];
    let snapshots = 0;
    const writer = async () => {
      const client = await pool.connect();
      try {
        for (let batch = 0; batch < 30; batch++) {
          const rows = Array.from({ length: 1 + Math.floor(random() * 20) }, () => call(Math.floor(random() * 5e9)));
          await client.query("BEGIN");
          for (const row of rows) await insertOne(client, row);
          await new Promise((r) => setTimeout(r, random() * 40)); // commit late, out of id order
          await client.query("COMMIT");
        }
      } finally {
        client.release();
      }
    };
    const other = await connectDatabase(url, { poolMax: 2, migrate: false }); // a second instance
    const roller = async (instance: Db) => {
      while (stop.writing) {
        await runRollupInSteps(instance, T, 40);
        const t = await snapshotTotals();
        snapshots++;
        for (const r of t.rolled) if (JSON.stringify(plus(r, t.tail)) !== JSON.stringify(t.raw)) mismatches.push(t);
        await new Promise((r) => setTimeout(r, random() * 15));
      }
    };
    const rollers = [roller(db), roller(other)];
    await Promise.all([writer(), writer(), writer(), writer()]);
    stop.writing = false;
    await Promise.all(rollers);
    await other.close();
    expect(snapshots).toBeGreaterThan(4);
    expect(mismatches).toEqual([]);
    await runRollup(db, T);
    const t = await snapshotTotals();
    expect(t.tail.requests).toBe(0);
    expect(t.rolled).toEqual(ROLLUP_SOURCES.map(() => t.raw));
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
        const step = await rollupPending(db, maxRows);
        steps.push(step.calls);
        expectExact(await snapshotTotals());
        if (step.caughtUp) return steps;
      }
    };
    await runRollup(db, T);
    expect(await stepsOf(9)).toEqual([8, 4]); // two batches fit in 9 rows, a third would not
    expect(await stepsOf(3)).toEqual([4, 4, 4]); // a batch of 4 is never split
    const t = await snapshotTotals();
    expect(t.tail.requests).toBe(0);
    expect(t.rolled).toEqual(ROLLUP_SOURCES.map(() => t.raw));
  });
});
