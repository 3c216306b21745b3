import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openDatabase, type Db } from "../../server/db/open.ts";
import { startFakeUpstream, type FakeUpstream } from "../fake-upstream.ts";
import { TEST_ADMIN_TOKEN, waitFor } from "../harness.ts";
import { startServerProcess, type ServerProcess } from "../server-process.ts";
import { sqliteClient } from "../../server/db/sqlite.ts";

// Three real tollbooth processes on one SQLite file share a hard budget: each leases room from
// the database, so together they stay within it, and a restarted process finds the spend of the
// period in calls. Same per-call figures as hard-budget.test.ts: 390 nano-USD real, 1,560 bound.

const CALL_COST = 390;
const CALL_BOUND = 1560;
const AMOUNT = 50 * CALL_COST;

let dir: string;
let upstream: FakeUpstream;
let db: Db;
const procs: ServerProcess[] = [];

function start(): ServerProcess {
  const p = startServerProcess({ DATABASE_URL: join(dir, "tollbooth.db"), ADMIN_TOKEN: TEST_ADMIN_TOKEN, UPSTREAM_BASE_URL: upstream.url });
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

const spentInCalls = () => sqliteClient(db).prepare("SELECT COALESCE(SUM(cost_nano), 0) AS c, COUNT(*) AS n FROM calls").get() as { c: number; n: number };

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "tollbooth-instances-"));
  upstream = await startFakeUpstream();
});
afterAll(async () => {
  for (const p of procs) p.child.kill("SIGTERM");
  await Promise.all(procs.map((p) => p.exited));
  await db?.close();
  await upstream?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe("a hard budget across three processes on one SQLite file", () => {
  it("200 concurrent calls spread over 3 instances cost at most the budget plus one call", async () => {
    const first = await start().url; // migrates the file before the others open it
    const urls = [first, ...(await Promise.all([start().url, start().url]))];
    db = openDatabase(join(dir, "tollbooth.db"), { migrate: false });
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
    await waitFor(() => spentInCalls().n >= 200, 10_000);
    const { c: spent } = spentInCalls();
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
    const before = spentInCalls().c;
    const answers = await Promise.all(Array.from({ length: 20 }, () => chat(url)));
    await waitFor(() => spentInCalls().n >= 220, 10_000);
    expect(spentInCalls().c).toBeLessThanOrEqual(AMOUNT + CALL_BOUND);
    expect(answers.filter((a) => a.status === 200).length).toBe((spentInCalls().c - before) / CALL_COST);
  }, 60_000);
});
