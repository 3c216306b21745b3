import { Agent, request } from "node:http";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createApp } from "../../server/app.ts";
import {
  BASE_LOCKOUT_MS,
  FORGET_MS,
  FREE_ATTEMPTS,
  GLOBAL_ATTEMPTS_PER_SECOND,
  LoginThrottle,
  MAX_LOCKOUT_MS,
} from "../../server/sessions/login-throttle.ts";
import { startTestServer, type TestServer } from "../harness.ts";
import { bothEngines } from "../db/engines.ts";

// The login throttle holds under concurrency, per client address and across all addresses: an
// attempt takes its slot when it arrives, so parallel guesses are refused with 429 + retry-after
// instead of all being judged. Requests come from distinct loopback source addresses
// (127.0.0.0/8 is all local on Linux), which is what the server sees as the TCP peer.

const WRONG = "not-the-admin-token-at-all";

let now = Date.parse("2026-06-01T00:00:00.250Z");
const clock = { now: () => now };

let server: TestServer;
const agents = new Map<string, Agent>();
beforeAll(async () => {
  server = await startTestServer({}, clock);
});
afterAll(async () => {
  for (const agent of agents.values()) agent.destroy();
  await server?.stop();
});

interface LoginResult {
  status: number;
  retryAfter: string | undefined;
  location: string | undefined;
  body: string;
}

/** POST /login from source address `from` (keep-alive: the server may answer before reading the form). */
function login(token: string, from = "127.0.0.1"): Promise<LoginResult> {
  let agent = agents.get(from);
  if (!agent) agents.set(from, (agent = new Agent({ keepAlive: true, localAddress: from })));
  const body = new URLSearchParams({ token, next: "/jobs" }).toString();
  return new Promise((resolve, reject) => {
    const req = request(`${server.url}/login`, { method: "POST", agent, headers: { "content-type": "application/x-www-form-urlencoded", "content-length": String(Buffer.byteLength(body)) } });
    req.on("response", (res) => {
      let text = "";
      res.setEncoding("utf8");
      res.on("data", (d: string) => (text += d));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, retryAfter: res.headers["retry-after"], location: res.headers.location, body: text }));
    });
    req.on("error", reject);
    req.end(body);
  });
}

function countBy(results: LoginResult[]): Record<number, number> {
  const counts: Record<number, number> = {};
  for (const r of results) counts[r.status] = (counts[r.status] ?? 0) + 1;
  return counts;
}

describe("POST /login under a parallel guessing race", () => {
  it(`300 parallel wrong logins from one address: only ${FREE_ATTEMPTS} are judged, the rest get 429 + retry-after`, async () => {
    const results = await Promise.all(Array.from({ length: 300 }, () => login(WRONG)));
    expect(countBy(results)).toEqual({ 401: FREE_ATTEMPTS, 429: 300 - FREE_ATTEMPTS });
    for (const r of results.filter((x) => x.status === 429)) {
      expect(r.retryAfter).toBe(String(BASE_LOCKOUT_MS / 1000));
      expect(r.body).toContain(`Too many failed logins from your address. Try again in ${BASE_LOCKOUT_MS / 1000} s.`);
    }
  });

  it("the locked-out address is refused even with the right token; another address logs in", async () => {
    const locked = await login(server.adminToken);
    expect(locked.status).toBe(429);
    const other = await login(server.adminToken, "127.0.0.2");
    expect(other.status, other.body.slice(0, 300)).toBe(303);
    expect(other.location).toBe("/jobs");
  });

  it("after a lockout the address gets a fresh allowance and a twice-longer next lockout; a correct login forgets it all", async () => {
    now += BASE_LOCKOUT_MS - 1_000;
    expect((await login(server.adminToken)).retryAfter).toBe("1");
    now += 1_000;
    for (let i = 0; i < FREE_ATTEMPTS; i++) expect((await login(WRONG)).status).toBe(401);
    expect((await login(WRONG)).retryAfter).toBe(String((2 * BASE_LOCKOUT_MS) / 1000));
    now += 2 * BASE_LOCKOUT_MS;
    for (let i = 0; i < FREE_ATTEMPTS - 1; i++) expect((await login(WRONG)).status).toBe(401);
    expect((await login(server.adminToken)).status).toBe(303);
    now += 1_000; // a fresh second of the global budget, which these attempts also use
    for (let i = 0; i < FREE_ATTEMPTS; i++) expect((await login(WRONG)).status).toBe(401);
    expect((await login(WRONG)).retryAfter).toBe(String(BASE_LOCKOUT_MS / 1000));
  });

  it(`rotating addresses: at most ${GLOBAL_ATTEMPTS_PER_SECOND} attempts per second are judged across all of them`, async () => {
    now = Math.ceil(now / 1000) * 1000 + 100; // a fresh second of the global budget
    const froms = Array.from({ length: 30 }, (_, i) => `127.0.1.${i + 1}`);
    const results = await Promise.all(froms.map((from) => login(WRONG, from)));
    expect(countBy(results)).toEqual({ 401: GLOBAL_ATTEMPTS_PER_SECOND, 429: 30 - GLOBAL_ATTEMPTS_PER_SECOND });
    for (const r of results.filter((x) => x.status === 429)) {
      expect(r.retryAfter).toBe("1");
      expect(r.body).toContain("Too many failed logins on this server right now.");
    }
    now += 1_000;
    expect((await login(WRONG, "127.0.1.31")).status).toBe(401);
  });
});

describe("the client address", () => {
  it("comes from the Hono env's remoteAddress when a bridge passes it", async () => {
    // The same app, fed requests directly (no socket), as a thread bridge would.
    const app = createApp({ config: server.config, db: server.db, clock, log: server.log, adminToken: server.adminToken });
    const post = (token: string, remoteAddress: string) =>
      app.request("/login", { method: "POST", headers: { "content-type": "application/x-www-form-urlencoded" }, body: new URLSearchParams({ token }).toString() }, { remoteAddress });
    for (let i = 0; i < FREE_ATTEMPTS; i++) expect((await post(WRONG, "10.0.0.1")).status).toBe(401);
    expect((await post(WRONG, "10.0.0.1")).status).toBe(429);
    expect((await post(WRONG, "10.0.0.2")).status).toBe(401);
  });
});

describe.each(bothEngines())("LoginThrottle on %s", (_engine, open) => {
  it("doubles lockouts up to a cap and forgets an address after a quiet hour", async () => {
    const t = new LoginThrottle(await open());
    let at = 1_000_000;
    const lockOut = async () => {
      for (let i = 0; i < FREE_ATTEMPTS; i++) expect(await t.admit("a", at)).toEqual({ admitted: true });
      const refused = await t.admit("a", at);
      if (refused.admitted) throw new Error("not locked out");
      return refused.retryAfterMs;
    };
    const lockouts: number[] = [];
    for (let i = 0; i < 6; i++) {
      const ms = await lockOut();
      lockouts.push(ms);
      at += ms + 1_000;
    }
    expect(lockouts).toEqual([1, 2, 4, 8, 15, 15].map((m) => Math.min(MAX_LOCKOUT_MS, m * BASE_LOCKOUT_MS)));
    at += FORGET_MS + 1;
    expect(await lockOut()).toBe(BASE_LOCKOUT_MS);
  });

  it("gives a correct login's slot back to the global budget", async () => {
    const t = new LoginThrottle(await open());
    for (let i = 0; i < 3 * GLOBAL_ATTEMPTS_PER_SECOND; i++) {
      expect((await t.admit(`10.0.0.${i}`, 5_000)).admitted).toBe(true);
      await t.succeed(`10.0.0.${i}`, 5_000);
    }
    for (let i = 0; i < GLOBAL_ATTEMPTS_PER_SECOND; i++) expect((await t.admit(`10.0.1.${i}`, 5_000)).admitted).toBe(true);
    expect(await t.admit("10.0.2.1", 5_999)).toEqual({ admitted: false, retryAfterMs: 1, scope: "global" });
  });
});
