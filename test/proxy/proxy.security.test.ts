import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CALLER_KEY, chatBody, postChat, sendRaw, startProxyRig, type ProxyRig } from "./proxy-harness.ts";
import { leakedWindows } from "./secret-windows.ts";
import { sqliteClient } from "../../server/db/sqlite.ts";

let rig: ProxyRig;
beforeAll(async () => {
  rig = await startProxyRig({ LOG_BODIES: "all" });
});
afterAll(() => rig.stop());

/** Every text value in every table, to search for leaked secrets. */
function everythingStored(): string {
  const client = sqliteClient(rig.server.db);
  const tables = client.prepare("SELECT name FROM sqlite_master WHERE type = 'table'").all() as Array<{ name: string }>;
  return tables.map(({ name }) => JSON.stringify(client.prepare(`SELECT * FROM "${name}"`).all())).join("\n");
}

describe("the caller's key is never stored: a fingerprint names it, bodies are scrubbed", () => {
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
    // Not just the whole key: a scrubber that cut only its first characters leaves the rest.
    expect(leakedWindows(body, [secret.slice(3), "abcdefghijklmnopqrst"])).toEqual([]);
    expect(body).toContain("[redacted]");
  });

  it("gives one key one key id however the Authorization header is spaced or cased", async () => {
    const ids = [];
    for (const authorization of [`Bearer ${CALLER_KEY}`, `bearer   ${CALLER_KEY}`, `BEARER\t${CALLER_KEY}`]) {
      const res = await postChat(rig, chatBody(), { authorization });
      ids.push((await rig.waitForCall(res.headers.get("x-tollbooth-request-id"))).keyId);
    }
    expect(ids[0]).toMatch(/^[0-9a-f]{12}\.\.WXYZ$/);
    expect(new Set(ids)).toEqual(new Set([ids[0]]));
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

  it.each([
    "/v1/../../etc/passwd",
    "/v1/%2e%2e/api/requests",
    "/v1/foo/%2E%2E/%2e%2e/x",
    "/v1/.%2e/.%2E/x",
    "/v1/..",
    "/v1\\..\\..\\etc\\passwd",
    "/v1/..%2f..%2fetc/passwd",
    "/v1/models/..%2F..%2F..%2Fapi/requests",
    "/v1/x%2f/../../etc/passwd",
  ])("refuses %s with a recorded 400, never reaching upstream", async (target) => {
    rig.upstream.reset();
    const res = await sendRaw(rig.server.url, target, { headers: { authorization: `Bearer ${CALLER_KEY}` } });
    expect(res.status, res.text).toBe(400);
    expect(JSON.parse(res.text)).toEqual({ error: { message: expect.stringContaining("outside /v1"), type: "invalid_request_error", code: "invalid_path" } });
    const row = await rig.waitForCall(res.headers["x-tollbooth-request-id"] as string);
    expect(row).toMatchObject({ status: 400, errorType: "invalid_request_error" });
    expect(rig.upstream.requests).toEqual([]);
  });

  it.each([
    ["/v1/./models", "/v1/models"],
    ["/v1/chat/../models", "/v1/models"],
    ["/v1/%2e/models", "/v1/models"],
    ["/v1\\models", "/v1/models"],
    // Model ids hold a slash, which SDKs send encoded: it is forwarded encoded, not decoded.
    ["/v1/models/meta-llama%2FLlama-3.1-8B-Instruct", "/v1/models/meta-llama%2FLlama-3.1-8B-Instruct"],
    ["/v1/models?after=..%2f..%2fapi", "/v1/models?after=..%2f..%2fapi"],
  ])("forwards %s resolved, as %s", async (target, seen) => {
    rig.upstream.reset();
    const res = await sendRaw(rig.server.url, target, { headers: { authorization: `Bearer ${CALLER_KEY}` } });
    expect(res.status).not.toBe(400);
    expect(rig.upstream.requests.map((r) => r.path)).toEqual([seen]);
    const row = await rig.waitForCall(res.headers["x-tollbooth-request-id"] as string);
    expect(row.endpoint).toBe(seen.split("?")[0]);
  });

  it("does not forward headers that re-route a request", async () => {
    rig.upstream.reset();
    const overrides = {
      "x-original-url": "/admin",
      "x-rewrite-url": "/admin",
      "x-original-uri": "/admin",
      "x-forwarded-host": "evil.example",
      "x-forwarded-prefix": "/../admin",
      "x-forwarded-port": "8443",
      "x-forwarded-uri": "/admin",
      "x-portkey-custom-host": "http://evil.example",
      "x-portkey-config": '{"custom_host":"http://evil.example"}',
      "x-envoy-original-path": "/admin",
      "x-http-method-override": "DELETE",
      "x-host": "evil.example",
    };
    const res = await postChat(rig, chatBody(), overrides);
    expect(res.status).toBe(200);
    const seen = rig.upstream.requests[0]!.headers;
    expect(Object.keys(overrides).filter((name) => name in seen)).toEqual([]);
    expect(seen.authorization).toBe(`Bearer ${CALLER_KEY}`); // the rest still goes through
  });
});
