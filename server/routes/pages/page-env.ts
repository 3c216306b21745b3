import type { Context } from "hono";
import type { Session } from "../../db/schema.ts";

/** Context variables of every page route. */
export type PageEnv = { Variables: { session: Session | null } };

/** Paths that belong to other parts of the app; page middleware passes them through untouched. */
export function isPagePath(path: string): boolean {
  return !/^\/(api|v1)(\/|$)/.test(path) && path !== "/healthz";
}

/**
 * An htmx request wants a fragment; a history restore (back button after a cache miss) and a
 * plain navigation want the whole page.
 */
export function wantsFragment(c: Context): boolean {
  return c.req.header("hx-request") === "true" && c.req.header("hx-history-restore-request") !== "true";
}

/** Where a newcomer should point their client: PUBLIC_URL when set, else this request's origin. */
export function publicOrigin(c: Context, publicUrl: string | undefined): string {
  return (publicUrl ?? new URL(c.req.url).origin).replace(/\/+$/, "");
}
