import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestServer, type TestServer } from "../harness.ts";
import { PAGE_PATHS, logIn } from "./page-client.ts";
import { safeNextPath } from "../../server/sessions/guard.ts";

// Admin token or session cookie on every page, HttpOnly + SameSite=Strict cookie, CSRF on every
// state change (docs/architecture.md, "Nothing from a request is trusted in a page").

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer();
});
afterAll(async () => {
  await server?.stop();
});

const loginForm = (token: string, next = "/") =>
  fetch(`${server.url}/login`, {
    method: "POST",
    redirect: "manual",
    headers: { "content-type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams({ token, next }),
  });

describe("pages without a session", () => {
  it.each([...PAGE_PATHS, "/requests/1", "/spend/export.csv", "/no-such-page"])("GET %s redirects to /login with next", async (path) => {
    const res = await fetch(server.url + path, { redirect: "manual" });
    expect(res.status, await res.text()).toBe(302);
    expect(res.headers.get("location")).toBe(`/login?next=${encodeURIComponent(path)}`);
  });

  it("keeps the query string in next", async () => {
    const res = await fetch(`${server.url}/requests?status=429&model=a`, { redirect: "manual" });
    expect(res.headers.get("location")).toBe(`/login?next=${encodeURIComponent("/requests?status=429&model=a")}`);
  });

  it("tells htmx to navigate the whole window instead of swapping a login form into a fragment", async () => {
    const res = await fetch(`${server.url}/overview/figures`, { redirect: "manual", headers: { "hx-request": "true" } });
    expect(res.status).toBe(200);
    expect(res.headers.get("hx-redirect")).toBe(`/login?next=${encodeURIComponent("/overview/figures")}`);
    expect(await res.text()).toBe("");
  });

  it("refuses state changes before any CSRF check can matter", async () => {
    const res = await fetch(`${server.url}/prices`, { method: "POST", redirect: "manual", body: new URLSearchParams({ model: "x" }) });
    expect(res.status).toBe(302);
  });

  it("serves the login page itself", async () => {
    const res = await fetch(`${server.url}/login`);
    const html = await res.text();
    expect(res.status, html).toBe(200);
    expect(html).toContain('name="token"');
    expect(html).not.toContain('href="/usage"'); // no nav before login
  });
});

describe("login", () => {
  it("refuses a wrong token with 401 and no cookie", async () => {
    const res = await loginForm("not-the-admin-token-at-all");
    const html = await res.text();
    expect(res.status, html).toBe(401);
    expect(res.headers.get("set-cookie")).toBeNull();
    expect(html).toContain("That is not the admin token.");
  });

  it("accepts the admin token: HttpOnly, SameSite=Strict, Path=/ cookie, 303 to next", async () => {
    const res = await loginForm(server.adminToken, "/requests?status=error");
    expect(res.status, await res.text()).toBe(303);
    expect(res.headers.get("location")).toBe("/requests?status=error");
    const cookie = res.headers.get("set-cookie") ?? "";
    expect(cookie).toMatch(/^tb_session=[A-Za-z0-9_-]{43};/);
    expect(cookie).toMatch(/HttpOnly/i);
    expect(cookie).toMatch(/SameSite=Strict/i);
    expect(cookie).toMatch(/Path=\//);
    // Plain http on 127.0.0.1: a Secure cookie would never come back.
    expect(cookie).not.toMatch(/Secure/i);
  });

  it("marks the cookie Secure behind a TLS-terminating proxy", async () => {
    const res = await fetch(`${server.url}/login`, {
      method: "POST",
      redirect: "manual",
      headers: { "content-type": "application/x-www-form-urlencoded", "x-forwarded-proto": "https" },
      body: new URLSearchParams({ token: server.adminToken }),
    });
    expect(res.status).toBe(303);
    expect(res.headers.get("set-cookie") ?? "").toMatch(/Secure/i);
  });

  it("never redirects off-site after login", async () => {
    for (const next of ["//evil.example/", "https://evil.example/", "/\\evil.example", "javascript:alert(1)"]) {
      const res = await loginForm(server.adminToken, next);
      expect(res.headers.get("location"), next).toBe("/");
    }
    expect(safeNextPath("/spend?by=team")).toBe("/spend?by=team");
  });

  it("a logged-in visit to /login goes straight to next", async () => {
    const user = await logIn(server);
    const res = await user.get("/login?next=%2Fjobs");
    expect(res.status).toBe(302);
    expect(res.headers.get("location")).toBe("/jobs");
  });

  it("a forged or random cookie is no session", async () => {
    const res = await fetch(`${server.url}/`, { redirect: "manual", headers: { cookie: `tb_session=${"A".repeat(43)}` } });
    expect(res.status).toBe(302);
  });
});

describe("logout", () => {
  it("deletes the session: the old cookie no longer opens any page", async () => {
    const user = await logIn(server);
    expect((await user.get("/jobs")).status).toBe(200);
    const res = await user.post("/logout", { _csrf: user.csrf });
    expect(res.status, await res.text()).toBe(303);
    expect(res.headers.get("location")).toBe("/login");
    expect(res.headers.get("set-cookie") ?? "").toMatch(/tb_session=;.*Max-Age=0/i);
    const after = await user.get("/jobs");
    expect(after.status).toBe(302);
    expect(after.headers.get("location")).toBe("/login?next=%2Fjobs");
  });

  it("GET /logout only asks; it changes nothing", async () => {
    const user = await logIn(server);
    const res = await user.get("/logout");
    expect(res.status).toBe(200);
    expect(await res.text()).toContain('action="/logout"');
    expect((await user.get("/jobs")).status).toBe(200);
  });
});

describe("CSRF", () => {
  it("rejects a state change without the token with a 403 page", async () => {
    const user = await logIn(server);
    const res = await user.post("/prices", { model: "m", input_usd_per_mtok: "1", output_usd_per_mtok: "1" });
    const html = await res.text();
    expect(res.status, html).toBe(403);
    expect(html).toContain("CSRF");
    expect(html).toContain("<!DOCTYPE html>");
  });

  it("rejects another session's token and a wrong header", async () => {
    const a = await logIn(server);
    const b = await logIn(server);
    expect((await a.post("/prices", { _csrf: b.csrf, model: "m", input_usd_per_mtok: "1", output_usd_per_mtok: "1" })).status).toBe(403);
    expect((await a.post("/logout", {}, { "x-csrf-token": "wrong" })).status).toBe(403);
    expect((await a.get("/jobs")).status, "the rejected logout did not log out").toBe(200);
  });

  it("accepts the token in the x-csrf-token header (htmx requests)", async () => {
    const user = await logIn(server);
    const res = await user.post("/logout", {}, { "x-csrf-token": user.csrf });
    expect(res.status).toBe(303);
  });
});

describe("/api keeps its own auth and JSON errors", () => {
  it("a session cookie is not an API credential", async () => {
    const user = await logIn(server);
    const res = await fetch(`${server.url}/api/requests`, { headers: { cookie: user.cookie } });
    expect(res.status).toBe(401);
    expect(res.headers.get("content-type")).toMatch(/json/);
  });
});
