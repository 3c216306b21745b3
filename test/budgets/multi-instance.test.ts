import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { sql } from "drizzle-orm";
import { connectDatabase } from "../../server/db/connect.ts";
import type { Db } from "../../server/db/database.ts";
import { startFakeUpstream, type FakeUpstream } from "../fake-upstream.ts";
import { TEST_ADMIN_TOKEN, waitFor } from "../harness.ts";
import { startServerProcess, type ServerProcess } from "../server-process.ts";
import { testDatabaseUrl } from "../pg/database.ts";

// Three real tollbooth processes on one database (a SQLite file, then PostgreSQL) share a hard budget: each leases room from
// the database, so together they stay within it, and a restarted process finds the spend of the
// period in calls. Same per-call figures as hard-budget.test.ts: 390 nano-USD real, 1,560 bound.

const CALL_COST = 390;
const CALL_BOUND = 1560;
const AMOUNT = 50 * CALL_COST;

let dir: string;
let upstream: FakeUpstream;
let db: Db | undefined;
let databaseUrl: string;
const procs: ServerProcess[] = [];

function start(): ServerProcess {
  const p = startServerProcess({ DATABASE_URL: databaseUrl, DATA_DIR: dir, ADMIN_TOKEN: TEST_ADMIN_TOKEN, UPSTREAM_BASE_URL: upstream.url });
  procs.push(p);
  return p;
}

function chat(url: string): Promise<Response> {
  return fetch(`${url}/v1/chat/completions`, {
    method: "POST",
    headers: { authorization: "Bearer sk-caller-0000000000000000", "content-type": "application/json", "x-tollbooth-team": "ml", "x-fake-delay-ms": "20" },
    body: JSON.stringify({ model: "meta-llama/Llama-3.1-8B-Instruct", messages: [{ role: "user", content: "Say hello in five words" }], max_tokens: 5 }),
  });
}

async function spentInCalls(): Promise<{ c: number; n: number }> {
  const row = await db!.get<{ c: number | string; n: number | string }>(sql`SELECT COALESCE(SUM(cost_nano), 0) AS c, COUNT(*) AS n FROM calls`);
  return { c: Number(row!.c), n: Number(row!.n) };
}

beforeAll(async () => {
  upstream = await startFakeUpstream();
});
afterAll(async () => {
  await upstream?.close();
});

describe.each(["sqlite", "postgres"] as const)("a hard budget across three processes on one %s database", (engine) => {
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "tollbooth-instances-"));
    databaseUrl = engine === "postgres" ? await testDatabaseUrl("budget") : join(dir, "tollbooth.db");
  });
  afterAll(async () => {
    for (const p of procs.splice(0)) {
      p.child.kill("SIGTERM");
      await p.exited;
    }
    await db?.close();
    db = undefined;
    rmSync(dir, { recursive: true, force: true });
  });

  it("200 concurrent calls spread over 3 instances cost at most the budget plus one call", async () => {
    const first = await start().url; // migrates the database before the others open it
    const urls = [first, ...(await Promise.all([start().url, start().url]))];
    db = await connectDatabase(databaseUrl, { poolMax: 1, migrate: false });
    const created = await fetch(`${first}/api/budgets`, {
      method: "POST",
      headers: { authorization: `Bearer ${TEST_ADMIN_TOKEN}`, "content-type": "application/json" },
      body: JSON.stringify({ scope: "team", target: "ml", amount_usd: `0.0000${AMOUNT}`, period: "monthly", timezone: "UTC", hard: true }),
    });
    expect(created.status, await created.clone().text()).toBe(201);
    await new Promise((r) => setTimeout(r, 800)); // every instance's writer polls the change

    const answers = await Promise.all(Array.from({ length: 200 }, (_, i) => chat(urls[i % 3]!)));
    const ok = answers.filter((a) => a.status === 200).length;
    expect(ok + answers.filter((a) => a.status === 429).length).toBe(200);
    await waitFor(async () => (await spentInCalls()).n >= 200, 10_000);
    const { c: spent } = await spentInCalls();
    expect(spent).toBeLessThanOrEqual(AMOUNT + CALL_BOUND);
    expect(spent, "the instances used most of the room between them").toBeGreaterThan(AMOUNT / 2);
    expect(ok).toBe(spent / CALL_COST);
  }, 120_000);

  it("a restarted instance finds the period's spend in calls and keeps refusing", async () => {
    const old = procs[0]!;
    old.child.kill("SIGTERM");
    await old.exited;
    const url = await start().url;
    await new Promise((r) => setTimeout(r, 300));
    const before = (await spentInCalls()).c;
    const answers = await Promise.all(Array.from({ length: 20 }, () => chat(url)));
    await waitFor(async () => (await spentInCalls()).n >= 220, 10_000);
    expect((await spentInCalls()).c).toBeLessThanOrEqual(AMOUNT + CALL_BOUND);
    expect(answers.filter((a) => a.status === 200).length).toBe(((await spentInCalls()).c - before) / CALL_COST);
  }, 60_000);
});
