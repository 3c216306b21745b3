import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openPostgres, type PgDb } from "../../server/db/postgres.ts";
import { writeCallBatch } from "../../server/recorder/pg-insert.ts";
import type { CallRecord } from "../../server/recorder/recorder.ts";
import { testDatabaseUrl } from "../pg/database.ts";

// The recorder's PostgreSQL batch write (server/recorder/pg-insert.ts) on its own: every column
// round-trips, bodies land on their own call, a replayed batch writes nothing.

let db: PgDb;
beforeAll(async () => {
  db = (await openPostgres(await testDatabaseUrl("pginsert"), { poolMax: 2 })).db;
});
afterAll(() => db.$client.end());

const T = Date.UTC(2026, 10, 30, 12);

function record(i: number, over: Partial<CallRecord["call"]> = {}, bodies?: CallRecord["bodies"]): CallRecord {
  return {
    call: {
      requestId: `req-${i}`,
      createdAt: T + i,
      model: "meta-llama/Llama-3.1-8B-Instruct",
      endpoint: "/v1/chat/completions",
      stream: i % 2 === 0,
      status: 200,
      usageSource: "upstream",
      promptTokens: 10 + i,
      completionTokens: 20,
      totalTokens: 30 + i,
      durationMs: 100,
      ...over,
    },
    ...(bodies ? { bodies } : {}),
  };
}

async function write(batch: CallRecord[], price?: (c: CallRecord["call"]) => number | null): Promise<number> {
  const client = await db.$client.connect();
  try {
    return await writeCallBatch(client, batch, price);
  } finally {
    client.release();
  }
}

describe("writeCallBatch (PostgreSQL)", () => {
  it("writes every column as given, nulls as nulls, text with tabs, newlines, backslashes and emoji intact", async () => {
    const odd = 'tab\there\nnew line \\ back "quote" \u{1F600} {"a":[1,2]}';
    const batch = [
      record(1, { status: 503, errorType: "server_error", errorMessage: odd, keyId: "k1", team: "t", project: "p", user: "u", ttftMs: 7, upstreamRequestId: "up-1" }),
      record(2, { model: null, promptTokens: null, completionTokens: null, totalTokens: null, usageSource: "none" }),
      record(3, { stream: undefined }), // unset: the column's default (false), as on SQLite
    ];
    expect(await write(batch, (c) => (c.model ? 2_150_000_000 : null))).toBe(3);
    const rows = await db.$client.query("SELECT * FROM calls WHERE request_id IN ('req-1', 'req-2', 'req-3') ORDER BY request_id");
    expect(rows.rows[0]).toMatchObject({
      request_id: "req-1", created_at: T + 1, stream: false, status: 503, error_type: "server_error", error_message: odd,
      prompt_tokens: 11, completion_tokens: 20, total_tokens: 31, usage_source: "upstream", duration_ms: 100, ttft_ms: 7,
      key_id: "k1", team: "t", project: "p", user: "u", upstream_request_id: "up-1",
      cost_nano: 2_150_000_000, // past 2^31: a bigint, read back exactly
    });
    expect(rows.rows[1]).toMatchObject({ request_id: "req-2", stream: true, model: null, prompt_tokens: null, total_tokens: null, cost_nano: null, error_message: null });
    expect(rows.rows[2]).toMatchObject({ request_id: "req-3", stream: false });
    expect(typeof rows.rows[0].commit_xid).toBe("number");
  });

  it("stores bodies on their own call, and a replayed batch writes neither calls nor bodies again", async () => {
    const batch = [
      record(10),
      record(11, { status: 500 }, { request: '{"req":11}', response: '{"error":11}', truncated: true }),
      record(12),
      record(13, { status: 429 }, { request: '{"req":13}', response: null, truncated: false }),
    ];
    expect(await write(batch)).toBe(4);
    expect(await write(batch)).toBe(0);
    // A batch mixing a new call with replayed ones writes only the new one.
    expect(await write([...batch, record(14, {}, { request: "r14", response: "s14", truncated: false })])).toBe(1);
    const rows = await db.$client.query<{ request_id: string; request_body: string; response_body: string | null; truncated: boolean }>(
      `SELECT c.request_id, b.request_body, b.response_body, b.truncated
       FROM call_bodies b JOIN calls c ON c.id = b.call_id WHERE c.request_id LIKE 'req-1_' ORDER BY 1`,
    );
    expect(rows.rows).toEqual([
      { request_id: "req-11", request_body: '{"req":11}', response_body: '{"error":11}', truncated: true },
      { request_id: "req-13", request_body: '{"req":13}', response_body: null, truncated: false },
      { request_id: "req-14", request_body: "r14", response_body: "s14", truncated: false },
    ]);
    const count = await db.$client.query<{ n: number }>("SELECT COUNT(*) AS n FROM calls WHERE request_id LIKE 'req-1_'");
    expect(count.rows[0]!.n).toBe(5);
  });

  it("writes nothing of a batch whose transaction fails", async () => {
    const bad = [record(20), record(21, { durationMs: Number.NaN })]; // NaN is no bigint/integer
    await expect(write(bad)).rejects.toThrow();
    const count = await db.$client.query<{ n: number }>("SELECT COUNT(*) AS n FROM calls WHERE request_id IN ('req-20', 'req-21')");
    expect(count.rows[0]!.n).toBe(0);
    expect(await write([record(20)])).toBe(1); // and the connection is usable again
  });
});
