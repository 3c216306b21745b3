import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CALLER_KEY, chatBody, postChat, startProxyRig, type ProxyRig } from "./proxy-harness.ts";

let rig: ProxyRig;
beforeAll(async () => {
  rig = await startProxyRig({ LOG_BODIES: "all" });
});
afterAll(() => rig.stop());

/** Every text value in every table, to search for leaked secrets. */
function everythingStored(): string {
  const client = rig.server.db.$client;
  const tables = client.prepare("SELECT name FROM sqlite_master WHERE type = 'table'").all() as Array<{ name: string }>;
  return tables.map(({ name }) => JSON.stringify(client.prepare(`SELECT * FROM "${name}"`).all())).join("\n");
}

describe("promise 7: secrets never persist", () => {
  it("stores a fingerprint of the caller's key, never the key", async () => {
    for (const scenario of ["ok", "status-401", "stream-cut"]) {
      const res = await postChat(rig, chatBody({ stream: scenario === "stream-cut" }), { "x-fake-scenario": scenario });
      await res.text();
      await rig.waitForCall(res.headers.get("x-tollbooth-request-id"));
    }
    const stored = everythingStored();
    expect(stored).toContain("..WXYZ");
    expect(stored).not.toContain(CALLER_KEY);
    expect(stored).not.toContain(CALLER_KEY.slice(0, 20));
  });

  it("scrubs credentials from stored request bodies", async () => {
    const secret = "sk-live-abcdefghijklmnop12345";
    const res = await postChat(rig, chatBody({ messages: [{ role: "user", content: `my key is ${secret} and Bearer abcdefghijklmnopqrst` }] }));
    const row = await rig.waitForCall(res.headers.get("x-tollbooth-request-id"));
    const body = rig.bodies(row.id)!.request_body!;
    expect(body).not.toContain(secret);
    expect(body).not.toContain("abcdefghijklmnopqrst");
    expect(body).toContain("[redacted]");
  });
});

describe("SSRF: the upstream is configuration only", () => {
  it("ignores base_url-like fields and Host/forwarding headers in the request", async () => {
    rig.upstream.reset();
    const res = await postChat(rig, chatBody({ base_url: "http://169.254.169.254/", api_base: "http://evil.example/" }), {
      "x-forwarded-host": "evil.example",
      forwarded: "host=evil.example",
    });
    expect(res.status).toBe(200);
    expect(rig.upstream.requests).toHaveLength(1);
    const seen = rig.upstream.requests[0]!;
    expect(seen.headers.host).toBe(`127.0.0.1:${rig.upstream.port}`);
    expect(seen.headers["x-forwarded-host"]).toBeUndefined();
  });

  it("does not follow path tricks outside /v1", async () => {
    rig.upstream.reset();
    const res = await fetch(`${rig.baseURL}/../api/requests`, { headers: { authorization: `Bearer ${CALLER_KEY}` } });
    // fetch normalises the path: this is /api/requests, which needs the admin token.
    expect(res.status).toBe(401);
    expect(rig.upstream.requests).toHaveLength(0);
  });
});
