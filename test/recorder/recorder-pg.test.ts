import { sql } from "drizzle-orm";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { connectDatabase } from "../../server/db/connect.ts";
import type { Db } from "../../server/db/database.ts";
import { createLogger } from "../../server/log.ts";
import { PriceBook } from "../../server/prices/price-book.ts";
import { Recorder } from "../../server/recorder/recorder.ts";
import { makeCall } from "../factories.ts";
import { testDatabaseUrl } from "../pg/database.ts";

// The Recorder on PostgreSQL with two batches in flight: commits are reported in queue order even
// when a later batch commits first, a batch behind a failed one stays queued and is written once,
// and rows are priced as on SQLite.

let url: string;
let db: Db;
beforeAll(async () => {
  url = await testDatabaseUrl("recorderpg");
  db = await connectDatabase(url, { poolMax: 2 });
});
afterAll(() => db.close());

const log = createLogger("silent");
const countOf = async (ids: string[]) =>
  (await db.get<{ n: number }>(sql`SELECT COUNT(*) AS n FROM calls WHERE request_id IN (${sql.join(ids.map((id) => sql`${id}`), sql`, `)})`))!.n;
const settle = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe("recorder on PostgreSQL, two batches in flight", () => {
  it("reports a later batch that committed first only after the batch before it commits", async () => {
    const committed: number[] = [];
    const recorder = new Recorder(db, { batchSize: 2, flushMs: 60_000, log, onCommitted: (n) => committed.push(n) });
    expect((recorder as unknown as { writer: { parallel: number } }).writer.parallel).toBe(2);
    const calls = Array.from({ length: 5 }, () => makeCall());
    // Another session inserts the first call's key and holds its transaction open: the first
    // batch waits on the unique index while the second (and third) commit.
    const other = new pg.Client({ connectionString: url });
    await other.connect();
    try {
      await other.query("BEGIN");
      await other.query(
        "INSERT INTO calls (request_id, created_at, endpoint, status, usage_source, duration_ms) VALUES ($1, $2, '/v1/chat/completions', 200, 'upstream', 1)",
        [calls[0]!.requestId, calls[0]!.createdAt],
      );
      for (const call of calls) recorder.enqueue({ call });
      const flushed = recorder.flush(true);
      const second = calls.slice(2, 4).map((c) => c.requestId);
      for (let i = 0; (await countOf(second)) < 2; i++) {
        if (i > 200) throw new Error("the second batch never committed");
        await settle(10);
      }
      await settle(100);
      expect(committed).toEqual([]); // the second batch is in, but not reported ahead of the first
      await other.query("ROLLBACK");
      expect(await flushed).toBe(true);
      expect(committed).toEqual([2, 2, 1]);
      expect(await countOf(calls.map((c) => c.requestId))).toBe(5);
    } finally {
      await other.end();
    }
  });

  it("keeps the batches behind a failed one queued and writes every row once on the retry", async () => {
    const committed: number[] = [];
    const recorder = new Recorder(db, { batchSize: 2, flushMs: 60_000, log, onCommitted: (n) => committed.push(n) });
    // The first row of the first batch cannot be written (a status past integer range).
    const bad = makeCall({ status: 2 ** 40 });
    const calls = [bad, ...Array.from({ length: 3 }, () => makeCall())];
    for (const call of calls) recorder.enqueue({ call });
    expect(await recorder.flush(true)).toBe(false);
    expect(committed).toEqual([]);
    expect(recorder.pending).toBe(4);
    expect(await countOf(calls.slice(2).map((c) => c.requestId))).toBe(2); // the second batch did commit
    bad.status = 500;
    expect(await recorder.flush(true)).toBe(true);
    expect(committed).toEqual([2, 2]);
    const rows = await db.all<{ request_id: string; n: number }>(
      sql`SELECT request_id, COUNT(*) AS n FROM calls WHERE request_id IN (${sql.join(calls.map((c) => sql`${c.requestId}`), sql`, `)}) GROUP BY request_id`,
    );
    expect(rows.map((r) => r.n)).toEqual([1, 1, 1, 1]);
  });

  it("prices each row from the catalog, checked before each batch, and keeps a cost a row brings", async () => {
    const prices = new PriceBook(db);
    const recorder = new Recorder(db, { batchSize: 500, flushMs: 60_000, log, priceCall: (c) => prices.costOf(c), beforeBatch: () => prices.refresh() });
    const priced = makeCall({ costNano: undefined, model: "meta-llama/Llama-3.3-70B-Instruct", promptTokens: 1_000_000, completionTokens: 0 });
    const given = makeCall({ costNano: 7 });
    const unknown = makeCall({ costNano: undefined, model: "no/such-model" });
    for (const call of [priced, given, unknown]) recorder.enqueue({ call });
    expect(await recorder.flush(true)).toBe(true);
    const cost = async (id: string) => (await db.get<{ cost_nano: number | null }>(sql`SELECT cost_nano FROM calls WHERE request_id = ${id}`))!.cost_nano;
    expect(await cost(priced.requestId)).toBe(200_000_000); // $0.20 per 1M input tokens, the seeded price
    expect(await cost(given.requestId)).toBe(7);
    expect(await cost(unknown.requestId)).toBeNull();
  });

  it("under a steady trickle writes about one batch per flush interval, not one per commit", async () => {
    const sizes: number[] = [];
    const recorder = new Recorder(db, { batchSize: 500, flushMs: 50, log, onBatch: (rows) => sizes.push(rows) });
    recorder.start();
    // A row every 2 ms for 600 ms: a few hundred calls/s on one instance. Writing whatever arrived
    // during the previous commit made a batch every few ms here; the flush interval allows ~12.
    const calls: string[] = [];
    const trickle = setInterval(() => {
      const call = makeCall();
      calls.push(call.requestId);
      recorder.enqueue({ call });
    }, 2);
    await settle(600);
    clearInterval(trickle);
    expect(await recorder.close()).toBe(0);
    expect(await countOf(calls)).toBe(calls.length);
    expect(sizes.reduce((a, b) => a + b, 0)).toBe(calls.length);
    expect(sizes.length).toBeLessThanOrEqual(16);
  });
});
