import { timingSafeEqual } from "node:crypto";
import type { Context } from "hono";

// Every state-changing dashboard request carries its session's CSRF token: forms in a hidden
// `_csrf` field, htmx requests in the x-csrf-token header (set once with hx-headers on <body>).

export const CSRF_FIELD = "_csrf";
export const CSRF_HEADER = "x-csrf-token";

export async function submittedCsrfToken(c: Context): Promise<string | undefined> {
  const header = c.req.header(CSRF_HEADER);
  if (header) return header;
  const type = c.req.header("content-type") ?? "";
  if (!type.startsWith("application/x-www-form-urlencoded") && !type.startsWith("multipart/form-data")) return undefined;
  // parseBody caches its result on the request, so the route handler can read the form again.
  const form = await c.req.parseBody();
  const value = form[CSRF_FIELD];
  return typeof value === "string" ? value : undefined;
}

export function csrfMatches(submitted: string | undefined, expected: string): boolean {
  if (!submitted) return false;
  const a = Buffer.from(submitted);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}
