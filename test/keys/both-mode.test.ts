import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CALLER_KEY, postChat, type ProxyRig } from "../proxy/proxy-harness.ts";
import { chatWith, issueKey, postJson, startKeysRig, UPSTREAM_KEY } from "./spend-rig.ts";

// AUTH_MODE=both: tollbooth keys and callers' own keys side by side, and a budget on one key.

let rig: ProxyRig;
beforeAll(async () => {
  rig = await startKeysRig({ AUTH_MODE: "both" });
});
afterAll(async () => {
  await rig?.stop();
});

describe("AUTH_MODE=both", () => {
  it("passes a caller's own key through untouched and swaps a tollbooth key for UPSTREAM_API_KEY", async () => {
    const { key } = await issueKey(rig);
    rig.upstream.reset();
    expect((await postChat(rig, { model: "meta-llama/Llama-3.1-8B-Instruct", messages: [{ role: "user", content: "hi" }] })).status).toBe(200);
    expect((await chatWith(rig, key, {}, { "x-api-key": key })).status).toBe(200);
    const [own, keyed] = rig.upstream.requests;
    expect(own!.headers.authorization).toBe(`Bearer ${CALLER_KEY}`);
    expect(keyed!.headers.authorization).toBe(`Bearer ${UPSTREAM_KEY}`);
    expect(keyed!.headers["x-api-key"]).toBeUndefined();
    expect(JSON.stringify(keyed!.headers)).not.toContain(key);
  });

  it("a budget on one key stops that key only", async () => {
    const { id, key } = await issueKey(rig, { team: "shared" });
    const { key: other } = await issueKey(rig, { team: "shared" });
    // Calls cost 390 nano-USD and reserve 1,560: one runs while 3,000 − spent ≥ 1,560, so 4 do.
    const created = await postJson(rig, "/api/budgets", { scope: "key", target: id, amount_usd: "0.000003000", period: "daily", timezone: "UTC", hard: true });
    expect(created.status).toBe(201);
    await new Promise((r) => setTimeout(r, 600));
    const statuses: number[] = [];
    for (let i = 0; i < 6; i++) statuses.push((await chatWith(rig, key, { max_tokens: 5 })).status);
    expect(statuses).toEqual([200, 200, 200, 200, 429, 429]);
    const refused = await chatWith(rig, key, { max_tokens: 5 });
    expect(((await refused.json()) as { error: { message: string } }).error.message).toBe(`Budget exceeded for key ${id} (daily, $0.00)`);
    expect((await chatWith(rig, other, { max_tokens: 5 })).status).toBe(200);
  });
});
