import type { Context, MiddlewareHandler } from "hono";
import { bodyLimit } from "hono/body-limit";
import { jsonError } from "./errors.ts";

// Request bodies outside /v1 are small by nature: a login form is a token and a path, the largest
// legitimate /api or form body is a report schedule (at most 50 recipients of 254 characters,
// about 13 KB as JSON) or one price row. Without a cap, parsing buffers whatever a client sends,
// so one unauthenticated 64 MB POST /login cost hundreds of MB of memory.
//
// The cap is registered after each part's own auth check (the Bearer token for /api, the session
// for pages), so a request that is refused anyway is never read at all; POST /login is the one
// public form and gets 8 KB. A body announced by content-length is refused before a byte is
// read; a chunked body is read up to the cap and cut there. Either way @hono/node-server then
// reads and discards what is still arriving for up to 500 ms / 64 MB before it closes the
// connection: closing at once would make the client's next write fail with a reset, and most
// clients would then report that instead of the 413.

/**
 * POST /login carries the admin token and the `next` path the login page was opened with: at most
 * 2,048 characters (safeNextPath), which form encoding can triple to 6 KB in the worst case.
 */
export const LOGIN_MAX_BODY_BYTES = 8 * 1024;
/** Every other non-/v1 body: room to spare over the largest schedule or price, far below harm. */
export const APP_MAX_BODY_BYTES = 1024 * 1024;

/**
 * The largest body a non-/v1 request to `path` may carry. Exported so that anything buffering
 * bodies before the Hono app sees them (a thread bridge, say) can cut at the same size.
 */
export function maxBodyBytes(path: string): number {
  return path === "/login" ? LOGIN_MAX_BODY_BYTES : APP_MAX_BODY_BYTES;
}

function kb(bytes: number): string {
  return bytes >= 1024 * 1024 ? `${bytes / (1024 * 1024)} MB` : `${bytes / 1024} KB`;
}

function tooLargeMessage(path: string): string {
  return `request body too large: ${path === "/login" ? "the login form" : "this endpoint"} accepts at most ${kb(maxBodyBytes(path))}`;
}

type TooLarge = (c: Context, message: string) => Response | Promise<Response>;

/**
 * Cut bodies above maxBodyBytes(path) with a 413 answered by `tooLarge` (JSON for /api, a page for
 * the dashboard).
 */
export function limitBody(tooLarge: TooLarge): MiddlewareHandler {
  const limits = new Map(
    [LOGIN_MAX_BODY_BYTES, APP_MAX_BODY_BYTES].map((maxSize) => [maxSize, bodyLimit({ maxSize, onError: (c) => tooLarge(c, tooLargeMessage(c.req.path)) })]),
  );
  return (c, next) => limits.get(maxBodyBytes(c.req.path))!(c, next);
}

/** The /api answer: OpenAI's error shape, like every other /api error. */
export function tooLargeJson(c: Context, message: string): Response {
  return jsonError(c, 413, message, "invalid_request_error", "request_too_large");
}
