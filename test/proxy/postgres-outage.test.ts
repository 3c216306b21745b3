import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestDatabase, startThrowawayPostgres, type ThrowawayPostgres } from "../pg/throwaway-postgres.ts";
import { CALLER_KEY, chatBody, startProxyRig, type ProxyRig } from "./proxy-harness.ts";

// PostgreSQL going away under a serving tollbooth, with a PostgreSQL server of this file's own
// that is really stopped (fast shutdown: every connection cut) and started again on the same
// folder and port: /v1 keeps answering, /healthz says 503 while writes fail and 200 after, and
// every call a client saw an answer to is a row exactly once when the database is back.

let pg: ThrowawayPostgres;
let rig: ProxyRig;

beforeAll(async () => {
  pg = await startThrowawayPostgres();
  const database = await createTestDatabase(pg.adminUrl, "outage");
  // Small batches, so several are in flight and committing when the database goes.
  rig = await startProxyRig({ DATABASE_URL: database.url, RECORDER_BATCH_SIZE: "20" });
}, 60_000);
afterAll(async () => {
  await rig?.stop();
  await pg?.stop();
});

/** Calls from `workers` clients in a loop until stopped: JSON and streaming, a few failing upstream. */
function load(workers: number) {
  const seen: { id: string; status: number; at: number }[] = [];
  let running = true;
  let n = 0;
  const one = async () => {
    const i = n++;
    const stream = i % 3 === 0;
    const res = await fetch(`${rig.baseURL}/chat/completions`, {
      method: "POST",
      headers: { authorization: `Bearer ${CALLER_KEY}`, "content-type": "application/json", ...(i % 10 === 0 ? { "x-fake-scenario": "status-503" } : {}) },
      body: JSON.stringify(chatBody(stream ? { stream: true } : {})),
    });
    await res.text();
    seen.push({ id: res.headers.get("x-tollbooth-request-id")!, status: res.status, at: Date.now() });
  };
  const done = Promise.all(
    Array.from({ length: workers }, async () => {
      while (running) await one();
    }),
  );
  return {
    seen,
    async stop() {
      running = false;
      await done;
    },
  };
}

async function health(): Promise<{ status: number; body: { reasons?: string[] } }> {
  const res = await fetch(`${rig.server.url}/healthz`);
  return { status: res.status, body: await res.json() };
}

async function until<T>(what: string, fn: () => Promise<T | null>, ms: number): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await fn();
    if (value !== null) return value;
    if (Date.now() > deadline) throw new Error(`not within ${ms} ms: ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe("PostgreSQL down while serving", () => {
  it("keeps answering calls, reports 503 until writes work again, then has every call exactly once", async () => {
    expect((await health()).status).toBe(200);
    const traffic = load(4);
    await until("100 calls answered", async () => (traffic.seen.length >= 100 ? true : null), 20_000);

    await pg.halt();
    const haltedAt = Date.now();
    const down = await until("/healthz 503", async () => {
      const h = await health();
      return h.status === 503 ? h : null;
    }, 10_000);
    expect(down.body.reasons?.join(" ")).toMatch(/database not writable/);
    // Calls go on being answered with the database down.
    const before = traffic.seen.length;
    await until("50 calls answered while down", async () => (traffic.seen.length >= before + 50 ? true : null), 20_000);
    expect((await health()).status).toBe(503);

    await pg.resume();
    const resumedAt = Date.now();
    await until("/healthz 200", async () => ((await health()).status === 200 ? true : null), 20_000);
    await traffic.stop();

    const during = traffic.seen.filter((c) => c.at > haltedAt && c.at < resumedAt);
    expect(during.length).toBeGreaterThanOrEqual(50);
    // Every call answered as upstream answered it: 200, or the 503 the fake upstream was asked for.
    expect(traffic.seen.filter((c) => c.status !== 200 && c.status !== 503)).toEqual([]);
    expect(traffic.seen.filter((c) => c.status === 200).length).toBeGreaterThan(traffic.seen.length / 2);

    await until("all rows committed", async () => ((await rig.server.recorder.flushed()) ? true : null), 20_000);
    const rows = await rig.server.db.all<{ request_id: string; n: number }>(sql`SELECT request_id, COUNT(*) AS n FROM calls GROUP BY request_id`);
    const counts = new Map(rows.map((r) => [r.request_id, r.n]));
    const ids = traffic.seen.map((c) => c.id);
    expect(new Set(ids).size).toBe(ids.length);
    expect(ids.filter((id) => counts.get(id) !== 1)).toEqual([]);
    expect(rows.length).toBe(ids.length);
    expect(rig.server.recorder.pending).toBe(0);
  }, 120_000);
});
