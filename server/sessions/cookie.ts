import type { Context } from "hono";
import { deleteCookie, getCookie, setCookie } from "hono/cookie";
import { SESSION_TTL_MS } from "./store.ts";

const SESSION_COOKIE = "tb_session";

/**
 * Secure only when the browser reached us over https: directly, through a TLS-terminating proxy
 * (x-forwarded-proto) or per PUBLIC_URL. A Secure cookie on plain http://127.0.0.1 would never be
 * sent back and the login would loop. Trusting a client's x-forwarded-proto is harmless here: it
 * can only make the cookie stricter.
 */
export function isHttpsRequest(c: Context, publicUrl: string | undefined): boolean {
  const forwarded = c.req.header("x-forwarded-proto")?.split(",")[0]?.trim().toLowerCase();
  return forwarded === "https" || new URL(c.req.url).protocol === "https:" || (publicUrl ?? "").toLowerCase().startsWith("https:");
}

export function readSessionCookie(c: Context): string | undefined {
  return getCookie(c, SESSION_COOKIE);
}

export function setSessionCookie(c: Context, id: string, secure: boolean): void {
  // HttpOnly: page scripts never need it. SameSite=Strict: no cross-site request carries it,
  // which is the first CSRF defence (the per-session token is the second).
  setCookie(c, SESSION_COOKIE, id, { httpOnly: true, sameSite: "Strict", path: "/", secure, maxAge: SESSION_TTL_MS / 1000 });
}

export function clearSessionCookie(c: Context, secure: boolean): void {
  deleteCookie(c, SESSION_COOKIE, { path: "/", secure, httpOnly: true, sameSite: "Strict" });
}
