import type { Context, MiddlewareHandler } from "hono";
import type { Clock } from "../clock.ts";
import type { Db } from "../db/database.ts";
import type { PageEnv } from "../pages/page-env.tsx";
import { wantsFragment } from "../pages/page-env.tsx";
import { readSessionCookie } from "./cookie.ts";
import { csrfMatches, submittedCsrfToken } from "./csrf.ts";
import { findSession } from "./store.ts";

// The dashboard's gate: every page but /login and /static/* needs a live session, and every
// state change needs that session's CSRF token. /api keeps its own Bearer check (auth.ts).

const PUBLIC_PAGE = /^\/(login|static\/)/;
const SAFE_METHODS = new Set(["GET", "HEAD", "OPTIONS"]);

export function loadSession(db: Db, clock: Clock): MiddlewareHandler<PageEnv> {
  return async (c, next) => {
    c.set("session", await findSession(db, readSessionCookie(c), clock.now()));
    return next();
  };
}

/** Only a same-site path may follow a login: an absolute or protocol-relative URL falls back to "/". */
export function safeNextPath(raw: string | undefined | null): string {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are exactly what this rejects.
  if (!raw?.startsWith("/") || raw.startsWith("//") || raw.startsWith("/\\") || /[\u0000-\u001f]/.test(raw)) return "/";
  return raw.slice(0, 2048);
}

function loginRedirect(c: Context<PageEnv>): Response {
  const url = new URL(c.req.url);
  const target = `/login?next=${encodeURIComponent(url.pathname + url.search)}`;
  // An htmx poll after the session ended must navigate the whole window, not swap a login form
  // into a table cell.
  if (wantsFragment(c)) return c.body(null, 200, { "hx-redirect": target });
  return c.redirect(target, 302);
}

export function requireSession(): MiddlewareHandler<PageEnv> {
  return async (c, next) => {
    if (PUBLIC_PAGE.test(c.req.path)) return next();
    if (!c.get("session")) return loginRedirect(c);
    return next();
  };
}

export function requireCsrf(forbidden: (c: Context<PageEnv>, message: string) => Response | Promise<Response>): MiddlewareHandler<PageEnv> {
  return async (c, next) => {
    if (SAFE_METHODS.has(c.req.method) || c.req.path === "/login") return next();
    const session = c.get("session");
    if (!session || !csrfMatches(await submittedCsrfToken(c), session.csrfToken)) {
      return forbidden(c, "This form has expired or did not come from this dashboard (CSRF token mismatch). Reload the page and try again.");
    }
    return next();
  };
}
