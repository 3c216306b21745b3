import { getConnInfo } from "@hono/node-server/conninfo";
import type { Context } from "hono";

/**
 * The client's address as the one place that decides it: the TCP peer, never X-Forwarded-For
 * (any client can set that header, and the login throttle keys on this).
 *
 * When the app runs behind a bridge that owns the socket (e.g. in a worker thread, fed requests
 * by the thread that accepted them), the bridge passes the peer in the Hono env as
 * `remoteAddress`; otherwise @hono/node-server's connection info has it. "unknown" under
 * app.request() without either.
 */
export function clientAddress(c: Context): string {
  const env: unknown = c.env;
  if (env && typeof env === "object" && "remoteAddress" in env && typeof env.remoteAddress === "string" && env.remoteAddress !== "") {
    return env.remoteAddress;
  }
  try {
    return getConnInfo(c).remote.address ?? "unknown";
  } catch {
    return "unknown";
  }
}
