import { ApiError } from "../errors.ts";

// Where below /v1 a request goes. The upstream URL is UPSTREAM_BASE_URL plus this path, and a URL
// parser resolves dot segments (also `%2e%2e`, and `\` as `/`), so `/v1/../../etc/passwd` would
// reach upstream as `/etc/passwd` with the caller's key attached. An upstream or a proxy in front
// of it may also decode `%2f` into a path separator before routing. A target is forwarded only if
// it stays below /v1 under both readings, and it is forwarded already resolved.

export interface ProxyPath {
  /** Resolved path, e.g. "/v1/chat/completions": what is recorded as the endpoint. */
  pathname: string;
  /** What is appended to UPSTREAM_BASE_URL: the path below /v1 plus the query string. */
  upstreamPath: string;
}

// Nothing to resolve: no dot segment, backslash or percent-escape anywhere in the path.
const NEEDS_RESOLVING = /\/\.|[\\%]/;

/** Resolve a /v1 request target, or throw a 400 if it leads outside /v1. */
export function resolveProxyPath(target: string): ProxyPath {
  const queryAt = target.indexOf("?");
  const raw = queryAt === -1 ? target : target.slice(0, queryAt);
  const query = queryAt === -1 ? "" : target.slice(queryAt);
  if (!NEEDS_RESOLVING.test(raw)) return { pathname: raw, upstreamPath: target.slice(3) };

  // The reading every URL parser (and so undici) applies: this is what would be sent.
  const parsed = new URL(raw, "http://upstream.invalid").pathname;
  // The reading of a server that also decodes %2f and %5c before it routes.
  const decodedSlashes = resolveDotSegments(raw.replace(/%2f|%5c|\\/gi, "/").replace(/%2e/gi, "."));
  if (!belowV1(parsed) || !belowV1(decodedSlashes)) {
    throw new ApiError({ status: 400, type: "invalid_request_error", code: "invalid_path", message: "the request path resolves outside /v1 (dot segments or encoded slashes)" });
  }
  return { pathname: parsed, upstreamPath: parsed.slice(3) + query };
}

function belowV1(path: string): boolean {
  return path === "/v1" || path.startsWith("/v1/");
}

/** RFC 3986 §5.2.4 remove_dot_segments on a path that starts with "/". */
function resolveDotSegments(path: string): string {
  const out: string[] = [];
  const segments = path.split("/").slice(1);
  for (const [i, segment] of segments.entries()) {
    const last = i === segments.length - 1;
    if (segment === "..") {
      out.pop();
      if (last) out.push("");
    } else if (segment === ".") {
      if (last) out.push("");
    } else {
      out.push(segment);
    }
  }
  return `/${out.join("/")}`;
}
