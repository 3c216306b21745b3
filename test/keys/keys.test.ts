import { afterAll, beforeAll, describe, expect, it } from "vitest";
import OpenAI from "openai";
import { CALLER_KEY, type ProxyRig } from "../proxy/proxy-harness.ts";
import { chatWith, issueKey, postJson, startKeysRig, timeUntil, UPSTREAM_KEY } from "./spend-rig.ts";
import { sql } from "drizzle-orm";

// Tollbooth keys end to end: a real server with AUTH_MODE=keys in front of the fake upstream.

let rig: ProxyRig;
beforeAll(async () => {
  rig = await startKeysRig();
});
afterAll(async () => {
  await rig?.stop();
});

describe("tollbooth keys", () => {
  it("issues a key shown once, stored only as a hash, listed by prefix", async () => {
    const { id, key } = await issueKey(rig, { name: "shown-once" });
    expect(key).toMatch(/^tb_[0-9A-Za-z]{43}$/);
    const stored = await rig.server.db.all<Record<string, unknown>>(sql`SELECT * FROM tollbooth_key_secrets WHERE key_id = ${id}`);
    expect(stored).toHaveLength(1);
    expect(JSON.stringify(stored)).not.toContain(key.slice(3));
    expect(stored[0]!.prefix).toBe(key.slice(0, 11));
    const list = (await (await rig.server.api("/api/keys")).json()) as { data: Array<Record<string, unknown>> };
    const listed = list.data.find((k) => k.id === id)!;
    expect(listed).toMatchObject({ name: "shown-once", prefix: key.slice(0, 11), status: "active" });
    expect(JSON.stringify(list)).not.toContain(key);
  });

  it("forwards a key's call with UPSTREAM_API_KEY, recorded under the key's id, team and project", async () => {
    const { id, key } = await issueKey(rig);
    rig.upstream.reset();
    const client = new OpenAI({ baseURL: rig.baseURL, apiKey: key, defaultHeaders: { "X-Tollbooth-Team": "someone-else" } });
    const res = await client.chat.completions.create({ model: "meta-llama/Llama-3.1-8B-Instruct", messages: [{ role: "user", content: "hi" }] }).withResponse();
    expect(res.response.status).toBe(200);
    expect(rig.upstream.requests.at(-1)!.headers.authorization).toBe(`Bearer ${UPSTREAM_KEY}`);
    const row = await rig.waitForCall(res.response.headers.get("x-tollbooth-request-id"));
    expect(row).toMatchObject({ keyId: id, team: "ml", project: "search", status: 200 });
  });

  it("refuses unknown keys and non-tollbooth keys with a recorded 401 that never reaches upstream", async () => {
    rig.upstream.reset();
    for (const bad of ["tb_notARealKey0000000000000000000000000000000", CALLER_KEY]) {
      const res = await chatWith(rig, bad);
      expect(res.status).toBe(401);
      const body = (await res.json()) as { error: { type: string; code: string } };
      expect(body.error).toMatchObject({ type: "authentication_error", code: "invalid_api_key" });
      const row = await rig.waitForCall(res.headers.get("x-tollbooth-request-id"));
      expect(row).toMatchObject({ status: 401, errorType: "authentication_error" });
    }
    expect(rig.upstream.requests).toHaveLength(0);
  });

  it("revokes within a second, and the revoked key gets 401 revoked", async () => {
    const { id, key } = await issueKey(rig);
    expect((await chatWith(rig, key)).status).toBe(200);
    const revoked = await postJson(rig, `/api/keys/${id}/revoke`, {});
    expect(revoked.body.status).toBe("revoked");
    const took = await timeUntil(async () => (await chatWith(rig, key)).status === 401);
    expect(took).toBeLessThan(1_000);
    const res = await chatWith(rig, key);
    expect(((await res.json()) as { error: { message: string } }).error.message).toMatch(/revoked/);
  });

  it("a call in flight when its key is revoked finishes; the next one is refused", async () => {
    const { id, key } = await issueKey(rig);
    const slow = chatWith(rig, key, {}, { "x-fake-delay-ms": "600" });
    await new Promise((r) => setTimeout(r, 100));
    await postJson(rig, `/api/keys/${id}/revoke`, {});
    await timeUntil(async () => (await chatWith(rig, key)).status === 401);
    expect((await slow).status).toBe(200);
  });

  it("rotates: the old key works for the grace period, then stops", async () => {
    const { id, key: old } = await issueKey(rig);
    const rotated = await postJson(rig, `/api/keys/${id}/rotate`, { grace_seconds: 1 });
    expect(rotated.status).toBe(201);
    const fresh = rotated.body.key as string;
    expect(fresh).not.toBe(old);
    await timeUntil(async () => (await chatWith(rig, fresh)).status === 200);
    expect((await chatWith(rig, old)).status).toBe(200);
    await timeUntil(async () => (await chatWith(rig, old)).status === 401, 3_000);
    expect((await chatWith(rig, fresh)).status).toBe(200);
  });

  it("refuses a model the key may not call, with 403", async () => {
    const { key } = await issueKey(rig, { models: ["meta-llama/Llama-3.3-70B-Instruct"] });
    const res = await chatWith(rig, key);
    expect(res.status).toBe(403);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe("model_not_allowed");
  });

  it("limits requests per minute with x-ratelimit-* and retry-after", async () => {
    const { key } = await issueKey(rig, { rpm: 2 });
    const first = await chatWith(rig, key);
    expect(first.status).toBe(200);
    expect(first.headers.get("x-ratelimit-limit-requests")).toBe("2");
    expect(first.headers.get("x-ratelimit-remaining-requests")).toBe("1");
    expect((await chatWith(rig, key)).status).toBe(200);
    const third = await chatWith(rig, key);
    expect(third.status).toBe(429);
    expect(Number(third.headers.get("retry-after"))).toBeGreaterThanOrEqual(1);
    expect(third.headers.get("x-ratelimit-remaining-requests")).toBe("0");
    expect(((await third.json()) as { error: { code: string } }).error.code).toBe("rate_limit_exceeded");
    // Recorded as a refused call of its model, at cost 0 (not unpriced), never forwarded.
    expect(await rig.waitForCall(third.headers.get("x-tollbooth-request-id"))).toMatchObject({ status: 429, errorType: "requests", model: "meta-llama/Llama-3.1-8B-Instruct", costNano: 0 });
  });

  it("limits tokens per minute: prompt bound + max_tokens while in flight, the unused part given back", async () => {
    const { key } = await issueKey(rig, { tpm: 1000 });
    const first = chatWith(rig, key, { max_tokens: 600 }, { "x-fake-delay-ms": "400" });
    await new Promise((r) => setTimeout(r, 100));
    const res = await chatWith(rig, key, { max_tokens: 600 });
    expect(res.status).toBe(429);
    expect(res.headers.get("x-ratelimit-limit-tokens")).toBe("1000");
    expect((await first).status).toBe(200);
    // The first call used 13 of its 647 tokens: the rest is back.
    expect((await chatWith(rig, key, { max_tokens: 600 })).status).toBe(200);
  });

  it("names the field of a bad key request", async () => {
    expect((await postJson(rig, "/api/keys", { name: "" })).body).toMatchObject({ error: { message: expect.stringMatching(/^name:/) } });
    expect((await postJson(rig, "/api/keys", { name: "x", rpm: 1.5 })).body).toMatchObject({ error: { message: expect.stringMatching(/^rpm:/) } });
    expect((await postJson(rig, "/api/keys", { name: "x", expires_at: "tomorrow" })).body).toMatchObject({ error: { message: expect.stringMatching(/^expires_at:/) } });
  });
});
