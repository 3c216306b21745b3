import { afterAll, beforeAll, expect } from "vitest";
import type { Clock } from "../../server/clock.ts";
import type { CallRecord } from "../../server/recorder/recorder.ts";
import { startTestServer, type TestServer } from "../harness.ts";

// A logged-in dashboard user over plain HTTP: the session cookie and its CSRF token, taken from
// the real login form flow (no shortcuts into the sessions table).

export interface PageClient {
  cookie: string;
  csrf: string;
  get(path: string, headers?: Record<string, string>): Promise<Response>;
  post(path: string, form: Record<string, string>, headers?: Record<string, string>): Promise<Response>;
}

export async function logIn(server: TestServer, headers: Record<string, string> = {}): Promise<PageClient> {
  const res = await fetch(`${server.url}/login`, {
    method: "POST",
    redirect: "manual",
    headers: { "content-type": "application/x-www-form-urlencoded", ...headers },
    body: new URLSearchParams({ token: server.adminToken, next: "/" }),
  });
  expect(res.status, await res.text()).toBe(303);
  const setCookie = res.headers.get("set-cookie") ?? "";
  const cookie = /tb_session=[^;]+/.exec(setCookie)?.[0];
  if (!cookie) throw new Error(`no session cookie in ${setCookie}`);
  const page = await (await fetch(`${server.url}/jobs`, { headers: { cookie } })).text();
  const csrf = /name="_csrf" value="([^"]+)"/.exec(page)?.[1];
  if (!csrf) throw new Error("no CSRF token in the page");
  const client: PageClient = {
    cookie,
    csrf,
    get: (path, h = {}) => fetch(server.url + path, { redirect: "manual", headers: { cookie, ...h } }),
    post: (path, form, h = {}) =>
      fetch(server.url + path, {
        method: "POST",
        redirect: "manual",
        headers: { cookie, "content-type": "application/x-www-form-urlencoded", ...h },
        body: new URLSearchParams(form),
      }),
  };
  return client;
}

/**
 * A server of this test file's own with a signed-in dashboard user: started before the first
 * test, stopped after the last. Both fields are set in beforeAll, so read them inside tests.
 */
export function useSignedInServer(env: Record<string, string> = {}, clock?: Clock): { server: TestServer; user: PageClient } {
  const app = {} as { server: TestServer; user: PageClient };
  beforeAll(async () => {
    app.server = await startTestServer(env, clock);
    app.user = await logIn(app.server);
  });
  afterAll(async () => {
    await app.server?.stop();
  });
  return app;
}

/** Write calls through the real recorder and wait for the commit. */
export async function record(server: TestServer, ...records: CallRecord[]): Promise<void> {
  for (const r of records) server.recorder.enqueue(r);
  expect(await server.recorder.flushed(), "recorder flush").toBe(true);
}

/** Every dashboard page a logged-in user can open (the detail page needs an id, added by tests). */
export const PAGE_PATHS = ["/", "/usage", "/spend", "/requests", "/requests/failed", "/prices", "/prices/reprice", "/keys", "/budgets", "/alerts", "/reports", "/jobs", "/logout", "/overview/figures"];
