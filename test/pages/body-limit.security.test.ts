import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { LOGIN_MAX_BODY_BYTES, APP_MAX_BODY_BYTES } from "../../server/body-limit.ts";
import { startTestServer, type TestServer } from "../harness.ts";
import { startTempServerProcess as startServerProcess, type TempServerProcess as ServerProcess } from "../server-process.ts";
import { streamPost } from "../stream-post.ts";
import { logIn } from "./page-client.ts";

// Bodies outside /v1 are capped: 8 KB on the public POST /login, 1 MB elsewhere, and a body
// is never read before the request's auth check. Oversized → 413 (JSON on /api, a page on the
// dashboard), whether the size is announced (content-length) or not (chunked).

const MB = 1024 * 1024;
const FORM = { "content-type": "application/x-www-form-urlencoded" };

describe("the server process does not buffer a huge unauthenticated POST /login", () => {
  let proc: ServerProcess;
  beforeAll(async () => {
    proc = await startServerProcess();
    // Warm up the login route (module loading, JIT) so the peak below is about the body alone.
    for (let i = 0; i < 3; i++) await fetch(`${proc.url}/login`, { method: "POST", headers: FORM, body: "token=warm-up" });
  }, 30_000);
  afterAll(async () => {
    await proc?.stop();
  });

  it.each([
    ["with content-length", false],
    ["chunked, size unknown up front", true],
  ])("64 MB %s: 413 and the peak RSS grows by less than 32 MB", async (_label, chunked) => {
    const before = proc.peakRss();
    const res = await streamPost(`${proc.url}/login`, { bytes: 64 * MB, chunked, prefix: "token=", headers: FORM });
    expect(res.status, res.body.slice(0, 300)).toBe(413);
    expect(res.body).toContain(`at most ${LOGIN_MAX_BODY_BYTES / 1024} KB`);
    const grown = proc.peakRss() - before;
    // Buffering the body grew it by 323 MB. What remains is churn: after the 413 the serving
    // thread reads and discards what the client still sends (for up to 500 ms, so the client
    // reads the answer instead of a reset), and those chunks pass through the young generation
    // (up to 16 MB per thread's heap) before a scavenge frees them: 9–17 MB measured, so the bound
    // is 32 MB, still a tenth of what buffering cost.
    expect(grown, `peak RSS grew by ${(grown / MB).toFixed(1)} MB`).toBeLessThan(32 * MB);
    // The server answered long before the client could send it all.
    expect(res.sent).toBeLessThan(32 * MB);
    // And it still serves.
    expect((await fetch(`${proc.url}/healthz`)).status).toBe(200);
  }, 30_000);
});

describe("limits per route (in-process server)", () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer();
  });
  afterAll(async () => {
    await server?.stop();
  });
  const auth = () => ({ authorization: `Bearer ${server.adminToken}`, "content-type": "application/json" });

  it("POST /login: a body just over the cap gets a readable 413 page; the largest honest login still works", async () => {
    for (const chunked of [false, true]) {
      const res = await streamPost(`${server.url}/login`, { bytes: LOGIN_MAX_BODY_BYTES + 1, chunked, prefix: "token=", headers: FORM });
      expect(res.status, res.body.slice(0, 300)).toBe(413);
      expect(res.headers["content-type"]).toMatch(/^text\/html/);
      expect(res.body).toContain("Too much data");
      expect(res.body).toContain(`the login form accepts at most ${LOGIN_MAX_BODY_BYTES / 1024} KB`);
    }
    // The longest `next` a login keeps (2,048 characters), every one of them tripled by form
    // encoding, plus the token, fits.
    const next = `/?${"&".repeat(2046)}`;
    const res = await fetch(`${server.url}/login`, { method: "POST", redirect: "manual", headers: FORM, body: new URLSearchParams({ token: server.adminToken, next }) });
    expect(res.status, await res.text()).toBe(303);
    expect(res.headers.get("location")).toBe(next);
  });

  it("/api: 413 in OpenAI's error shape, announced or chunked", async () => {
    for (const chunked of [false, true]) {
      const res = await streamPost(`${server.url}/api/prices`, { bytes: APP_MAX_BODY_BYTES + 1, chunked, prefix: '{"model":"', headers: auth() });
      expect(res.status, res.body.slice(0, 300)).toBe(413);
      expect(res.headers["content-type"]).toMatch(/json/);
      expect(JSON.parse(res.body)).toEqual({
        error: { message: "request body too large: this endpoint accepts at most 1 MB", type: "invalid_request_error", code: "request_too_large", request_id: res.headers["x-request-id"] },
      });
    }
  });

  it("/api reads no body before the token check: 401, not 413", async () => {
    const res = await streamPost(`${server.url}/api/prices`, { bytes: 8 * MB, chunked: true, headers: { "content-type": "application/json" } });
    expect(res.status, res.body.slice(0, 300)).toBe(401);
    expect(JSON.parse(res.body).error.code).toBe("invalid_admin_token");
  });

  it("the largest legitimate /api body (a schedule with 50 long recipients) is accepted", async () => {
    const recipients = Array.from({ length: 50 }, (_, i) => `${"r".repeat(60)}${i}@${"d".repeat(60)}.example.com`);
    const res = await server.api("/api/reports", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ name: "n".repeat(200), kind: "spend", period: "daily", send_at: "09:00", timezone: "UTC", recipients }),
    });
    expect(res.status, await res.text()).toBe(201);
  });

  it("dashboard forms: 413 page for a logged-in user, chunked too; a visitor without a session is only redirected", async () => {
    const user = await logIn(server);
    for (const chunked of [false, true]) {
      const res = await streamPost(`${server.url}/reports`, { bytes: APP_MAX_BODY_BYTES + 1, chunked, prefix: `_csrf=${user.csrf}&name=`, headers: { ...FORM, cookie: user.cookie } });
      expect(res.status, res.body.slice(0, 300)).toBe(413);
      expect(res.body).toContain("<!DOCTYPE html>");
      expect(res.body).toContain("this endpoint accepts at most 1 MB");
    }
    const anonymous = await streamPost(`${server.url}/reports`, { bytes: 8 * MB, chunked: true, headers: FORM });
    expect(anonymous.status, anonymous.body.slice(0, 300)).toBe(302);
  });
});
