import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { inject } from "vitest";
import { createApp } from "../../server/app.ts";
import { loadConfig } from "../../server/config.ts";
import { connectDatabase } from "../../server/db/connect.ts";
import type { Db } from "../../server/db/database.ts";
import { createLogger } from "../../server/log.ts";
import { BASE_LOCKOUT_MS, FREE_ATTEMPTS, GLOBAL_ATTEMPTS_PER_SECOND } from "../../server/sessions/login-throttle.ts";
import { TEST_ADMIN_TOKEN } from "../harness.ts";
import { createTestDatabase } from "../pg/throwaway-postgres.ts";

// Two instances of the dashboard app, each on its own connection to one database, as two
// processes behind a load balancer are: the login brake counts the attempts made through both,
// and a session opened through one instance (its cookie and its CSRF token) works through the
// other, and ends on both when it is logged out through either.

const WRONG = "not-the-admin-token-at-all";
const cleanups: (() => Promise<void>)[] = [];
afterAll(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup();
});

/** The same database opened twice. */
async function twoHandles(engine: "sqlite" | "postgres"): Promise<[Db, Db]> {
  let url: string;
  if (engine === "sqlite") {
    const dir = mkdtempSync(join(tmpdir(), "tollbooth-two-"));
    cleanups.push(async () => rmSync(dir, { recursive: true, force: true }));
    url = join(dir, "t.db");
  } else {
    const created = await createTestDatabase(inject("pgAdminUrl"), "two");
    cleanups.push(() => created.drop());
    url = created.url;
  }
  const a = await connectDatabase(url, { poolMax: 2 });
  const b = await connectDatabase(url, { poolMax: 2, migrate: false });
  cleanups.push(() => a.close(), () => b.close());
  return [a, b];
}

describe.each(["sqlite", "postgres"] as const)("two instances on one %s database", (engine) => {
  let now = Date.parse("2026-06-01T00:00:00.250Z");
  const clock = { now: () => now };

  async function apps() {
    const [dbA, dbB] = await twoHandles(engine);
    const config = loadConfig({ DATABASE_URL: "unused.db", ADMIN_TOKEN: TEST_ADMIN_TOKEN });
    const log = createLogger("error");
    return [dbA, dbB].map((db) => createApp({ config, db, clock, log, adminToken: TEST_ADMIN_TOKEN })) as [ReturnType<typeof createApp>, ReturnType<typeof createApp>];
  }
  const form = (fields: Record<string, string>) => ({
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams(fields).toString(),
  });
  const login = (app: ReturnType<typeof createApp>, token: string, from: string) => app.request("/login", form({ token, next: "/jobs" }), { remoteAddress: from });

  it(`the login brake counts attempts through both: ${FREE_ATTEMPTS} wrong logins from one address, alternating, lock it out on both`, async () => {
    const [a, b] = await apps();
    for (let i = 0; i < FREE_ATTEMPTS; i++) expect((await login(i % 2 ? b : a, WRONG, "10.1.0.1")).status).toBe(401);
    for (const app of [a, b]) {
      const refused = await login(app, TEST_ADMIN_TOKEN, "10.1.0.1");
      expect(refused.status).toBe(429);
      expect(refused.headers.get("retry-after")).toBe(String(BASE_LOCKOUT_MS / 1000));
      expect(await refused.text()).toContain(`Too many failed logins from your address. Try again in ${BASE_LOCKOUT_MS / 1000} s.`);
    }
    // Rotating addresses through both instances in parallel: one budget per second for the two.
    now = Math.ceil(now / 1000) * 1000 + 100;
    // On PostgreSQL in parallel; on SQLite one at a time, because two connections to one file in
    // one thread would wait on each other's write lock synchronously (reader threads each have
    // their own thread, so they do not).
    const attempt = (i: number) => login(i % 2 ? b : a, WRONG, `10.2.0.${i + 1}`);
    const results: Response[] = [];
    if (engine === "postgres") results.push(...(await Promise.all(Array.from({ length: 24 }, (_, i) => attempt(i)))));
    else for (let i = 0; i < 24; i++) results.push(await attempt(i));
    const statuses = results.map((r) => r.status);
    expect(statuses.filter((s) => s === 401)).toHaveLength(GLOBAL_ATTEMPTS_PER_SECOND);
    expect(statuses.filter((s) => s === 429)).toHaveLength(24 - GLOBAL_ATTEMPTS_PER_SECOND);
  });

  it("a session opened through one instance carries on through the other, CSRF token included, and logout ends it on both", async () => {
    now += 1_000;
    const [a, b] = await apps();
    const loggedIn = await login(a, TEST_ADMIN_TOKEN, "10.3.0.1");
    expect(loggedIn.status).toBe(303);
    const cookie = /tb_session=[^;]+/.exec(loggedIn.headers.get("set-cookie") ?? "")?.[0];
    expect(cookie).toBeDefined();
    const withCookie = { headers: { cookie: cookie! } };
    // Instance B knows the session: /login sends a signed-in user on, and /logout's form carries its CSRF token.
    const signedIn = await b.request("/login?next=/jobs", withCookie);
    expect(signedIn.status).toBe(302);
    expect(signedIn.headers.get("location")).toBe("/jobs");
    const page = await (await b.request("/logout", withCookie)).text();
    const csrf = /name="_csrf" value="([^"]+)"/.exec(page)?.[1];
    expect(csrf).toMatch(/^[A-Za-z0-9_-]{43}$/);
    // A state change through B without the token is refused; with the token made on A it goes through.
    const forged = await b.request("/logout", { ...form({ _csrf: "x".repeat(43) }), headers: { ...form({}).headers, cookie: cookie! } });
    expect(forged.status).toBe(403);
    const out = await b.request("/logout", { ...form({ _csrf: csrf! }), headers: { ...form({}).headers, cookie: cookie! } });
    expect(out.status).toBe(303);
    // Gone on A too: the same cookie now gets the login form.
    expect((await a.request("/login?next=/jobs", withCookie)).status).toBe(200);
  });
});
