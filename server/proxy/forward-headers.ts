// Which headers cross the proxy. Hop-by-hop headers are per connection (RFC 9110 §7.6.1);
// accept-encoding is dropped so upstream answers uncompressed and usage can be read from the
// body; x-tollbooth-* is ours and never leaves; host/cookie never go to another origin.
const HOP_BY_HOP = new Set([
  "connection",
  "keep-alive",
  "proxy-authenticate",
  "proxy-authorization",
  "proxy-connection",
  "te",
  "trailer",
  "transfer-encoding",
  "upgrade",
]);
const NEVER_UPSTREAM = new Set(["host", "content-length", "accept-encoding", "cookie", "forwarded", "x-forwarded-for", "x-forwarded-host", "x-forwarded-proto", "x-real-ip"]);
const NEVER_DOWNSTREAM = new Set(["content-length", "content-encoding", "date", "server"]);

type RawHeaders = Record<string, string | string[] | undefined>;

/** Node's lowercased header record → what goes upstream. */
export function upstreamRequestHeaders(incoming: RawHeaders): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  for (const name in incoming) {
    const value = incoming[name];
    if (value === undefined || HOP_BY_HOP.has(name) || NEVER_UPSTREAM.has(name) || name.startsWith("x-tollbooth-")) continue;
    out[name] = value;
  }
  return out;
}

/**
 * Upstream's headers → what the caller gets, as a plain record: @hono/node-server writes a
 * Response with plain-object headers straight to the socket, skipping a Headers round trip.
 */
export function downstreamResponseHeaders(upstream: RawHeaders): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  for (const name in upstream) {
    const value = upstream[name];
    if (value === undefined || HOP_BY_HOP.has(name) || NEVER_DOWNSTREAM.has(name)) continue;
    out[name] = value;
  }
  return out;
}
