// Which headers cross the proxy. Hop-by-hop headers are per connection (RFC 9110 §7.6.1);
// accept-encoding is dropped so upstream answers uncompressed and usage can be read from the
// body; x-tollbooth-* is ours and never leaves; host/cookie never go to another origin; headers
// that could re-route the call upstream are dropped (see ROUTING_OVERRIDES).
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
const NEVER_UPSTREAM = new Set(["host", "content-length", "accept-encoding", "cookie", "forwarded", "x-real-ip"]);
// Headers that some servers, frameworks and gateways in front of upstream obey to pick another
// path, host, port or method than the request line says (IIS/Symfony x-original-url, Portkey's
// custom host, Envoy's original path, method overrides). The caller's key would follow them.
const ROUTING_OVERRIDES = new Set([
  "x-original-url",
  "x-original-uri",
  "x-original-host",
  "x-original-path",
  "x-rewrite-url",
  "x-override-url",
  "x-host",
  "x-http-host-override",
  "x-envoy-original-path",
  "x-http-method-override",
  "x-http-method",
  "x-method-override",
]);
// Ours (x-tollbooth-*), and routing overrides by family: x-forwarded-host/-prefix/-port/-uri/…,
// x-portkey-custom-host/-config/….
const NEVER_UPSTREAM_PREFIXES = ["x-tollbooth-", "x-forwarded-", "x-portkey-"];
const NEVER_DOWNSTREAM = new Set(["content-length", "content-encoding", "date", "server"]);

type RawHeaders = Record<string, string | string[] | undefined>;

/** Node's lowercased header record → what goes upstream. */
export function upstreamRequestHeaders(incoming: RawHeaders): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  for (const name in incoming) {
    const value = incoming[name];
    if (value === undefined || HOP_BY_HOP.has(name) || NEVER_UPSTREAM.has(name) || (name.startsWith("x-") && neverUpstreamX(name))) continue;
    out[name] = value;
  }
  return out;
}

function neverUpstreamX(name: string): boolean {
  return ROUTING_OVERRIDES.has(name) || NEVER_UPSTREAM_PREFIXES.some((prefix) => name.startsWith(prefix));
}

/**
 * Upstream's headers → what the caller gets, as a plain record: res.writeHead() takes it as it
 * is, with no Headers object built per call.
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
