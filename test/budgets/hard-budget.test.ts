import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { postChat, startProxyRig, type ProxyRig } from "../proxy/proxy-harness.ts";
import { postJson } from "../keys/spend-rig.ts";
import { rollUpAll } from "../pg/rollup-ready.ts";

// Hard budgets under concurrency, on one real server in front of the fake upstream. Each call
// here costs 390 nano-USD (8 prompt + 5 completion tokens at $0.03 per 1M) and reserves its bound,
// 1,560 nano-USD (47-token prompt bound + max_tokens 5).

const CALL_COST = 390;
const CALL_BOUND = 1560;
const ROOM_FOR = 50;

let rig: ProxyRig;
beforeAll(async () => {
  rig = await startProxyRig();
});
afterAll(async () => {
  await rig?.stop();
});

async function createBudget(body: Record<string, unknown>): Promise<number> {
  const res = await postJson(rig, "/api/budgets", { period: "monthly", timezone: "Europe/London", hard: true, ...body });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  await new Promise((r) => setTimeout(r, 600)); // every writer polls the change and tells its serving thread
  return res.body.id as number;
}

describe("hard budgets", () => {
  it("200 concurrent calls against room for 50 cost at most the budget plus one call; the rest get 429 budget_exceeded", async () => {
    const amountNano = ROOM_FOR * CALL_COST;
    const id = await createBudget({ scope: "team", target: "ml", amount_usd: `0.${String(amountNano).padStart(9, "0")}` });
    rig.upstream.reset();
    const answers = await Promise.all(
      Array.from({ length: 200 }, () => postChat(rig, { model: "meta-llama/Llama-3.1-8B-Instruct", messages: [{ role: "user", content: "Say hello in five words" }], max_tokens: 5 }, { "x-tollbooth-team": "ml", "x-fake-delay-ms": "20" })),
    );
    const statuses = answers.map((a) => a.status);
    const ok = statuses.filter((s) => s === 200).length;
    const refused = answers.filter((a) => a.status === 429);
    expect(ok + refused.length, `statuses: ${[...new Set(statuses)]}`).toBe(200);
    for (const r of refused) {
      expect(await r.json()).toEqual({ error: { message: "Budget exceeded for team ml (monthly, $0.00)", type: "insufficient_quota", code: "budget_exceeded" } });
    }
    expect(rig.upstream.requests).toHaveLength(ok);

    const rows = await rig.waitForRows(200);
    const spent = rows.reduce((sum, r) => sum + (r.costNano ?? 0), 0);
    expect(spent).toBeLessThanOrEqual(amountNano + CALL_BOUND);
    // Refusals come from the budget, not from a lease that failed to arrive: most of the room is used.
    expect(spent).toBeGreaterThan(amountNano / 2);
    const blocked = rows.filter((r) => r.status === 429);
    expect(blocked).toHaveLength(refused.length);
    for (const b of blocked) expect(b).toMatchObject({ costNano: 0, errorType: "insufficient_quota", model: "meta-llama/Llama-3.1-8B-Instruct", team: "ml" });

    const standing = (await (await rig.server.api(`/api/budgets/${id}`)).json()) as Record<string, string>;
    expect(BigInt(standing.spent_usd!.replace(".", ""))).toBe(BigInt(spent));
    // The same figure once the calls are rolled up (spent = rollups + calls past the watermark).
    await rollUpAll(rig.server.db, Date.now());
    const rolled = (await (await rig.server.api(`/api/budgets/${id}`)).json()) as Record<string, string>;
    expect(rolled.spent_usd).toBe(standing.spent_usd);
    await rig.server.api(`/api/budgets/${id}`, { method: "DELETE" });
  });

  it("spend from before the budget existed counts, and a soft budget refuses nothing", async () => {
    const team = "search";
    for (let i = 0; i < 3; i++) expect((await postChat(rig, { model: "meta-llama/Llama-3.1-8B-Instruct", messages: [{ role: "user", content: "Say hello in five words" }], max_tokens: 5 }, { "x-tollbooth-team": team })).status).toBe(200);
    await rig.waitForRows(203);
    const soft = await createBudget({ scope: "team", target: team, amount_usd: "0.000000500", hard: false });
    expect((await postChat(rig, { model: "meta-llama/Llama-3.1-8B-Instruct", messages: [{ role: "user", content: "hi" }], max_tokens: 5 }, { "x-tollbooth-team": team })).status).toBe(200);
    const id = await createBudget({ scope: "team", target: team, amount_usd: "0.000002000" }); // 4 calls' worth, 3 spent
    const res = await postChat(rig, { model: "meta-llama/Llama-3.1-8B-Instruct", messages: [{ role: "user", content: "Say hello in five words" }], max_tokens: 5 }, { "x-tollbooth-team": team });
    expect(res.status).toBe(429);
    const standing = (await (await rig.server.api(`/api/budgets/${id}`)).json()) as Record<string, string>;
    expect(standing).toMatchObject({ amount_usd: "0.000002000", hard: true });
    expect(Number(standing.spent_usd) * 1e9).toBeGreaterThanOrEqual(3 * CALL_COST);
    await rig.server.api(`/api/budgets/${soft}`, { method: "DELETE" });
    await rig.server.api(`/api/budgets/${id}`, { method: "DELETE" });
  });

  it("names the field of bad budget input with a 400", async () => {
    const cases: Array<[Record<string, unknown>, RegExp]> = [
      [{ amount_usd: 25.5 }, /^amount_usd: .*not a number/],
      [{ amount_usd: "-5" }, /^amount_usd: must not be negative/],
      [{ timezone: "Mars/Olympus" }, /^timezone: unknown IANA time zone/],
      [{ soft_thresholds: [50, 120] }, /^soft_thresholds\.1: must be at most 100/],
      [{ scope: "org" }, /^scope:/],
    ];
    for (const [bad, message] of cases) {
      const res = await postJson(rig, "/api/budgets", { scope: "team", target: "ml", amount_usd: "25.00", period: "daily", ...bad });
      expect(res.status).toBe(400);
      expect((res.body.error as { message: string }).message).toMatch(message);
    }
  });
});
