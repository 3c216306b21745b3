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

export function upstreamRequestHeaders(incoming: Headers): Record<string, string> {
  const out: Record<string, string> = {};
  incoming.forEach((value, name) => {
    if (HOP_BY_HOP.has(name) || NEVER_UPSTREAM.has(name) || name.startsWith("x-tollbooth-")) return;
    out[name] = value;
  });
  return out;
}

export function downstreamResponseHeaders(upstream: Record<string, string | string[] | undefined>): Headers {
  const out = new Headers();
  for (const [name, value] of Object.entries(upstream)) {
    if (value === undefined || HOP_BY_HOP.has(name) || NEVER_DOWNSTREAM.has(name)) continue;
    if (Array.isArray(value)) for (const v of value) out.append(name, v);
    else out.set(name, value);
  }
  return out;
}
