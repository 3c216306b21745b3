import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from "node:http";
import { ApiError } from "../errors.ts";

/**
 * The caller's side of one proxied call, read straight from Node's request when the server runs
 * on @hono/node-server. Going through the WHATWG Request instead (c.req.raw.body, .headers,
 * .signal) made node-server build a full Request, wrap the socket in a web stream and allocate
 * an AbortController per call: ~40 % of the proxy's CPU per call in the gateway bench.
 */
export interface Inbound {
  method: string;
  /** Path and query string as received, e.g. "/v1/chat/completions?x=1". */
  target: string;
  headers: IncomingHttpHeaders;
  header(name: string): string | undefined;
  readBody(max: number): Promise<Uint8Array | null>;
  /** Runs `fn` once if the caller goes away before the response was fully written. */
  onClientGone(fn: () => void): void;
}

export function inboundFromNode(incoming: IncomingMessage, outgoing: ServerResponse): Inbound {
  return {
    method: incoming.method ?? "GET",
    target: incoming.url ?? "/",
    headers: incoming.headers,
    header: (name) => headerValue(incoming.headers[name]),
    readBody: (max) => readNodeBody(incoming, max),
    onClientGone: (fn) => {
      outgoing.once("close", () => {
        if (!outgoing.writableFinished) fn();
      });
    },
  };
}

/** Fallback for runtimes without Node bindings (e.g. app.request() in a unit test). */
export function inboundFromRequest(req: Request): Inbound {
  const url = new URL(req.url);
  const headers: IncomingHttpHeaders = {};
  req.headers.forEach((v, k) => (headers[k] = v));
  return {
    method: req.method,
    target: url.pathname + url.search,
    headers,
    header: (name) => req.headers.get(name) ?? undefined,
    readBody: async (max) => {
      const body = new Uint8Array(await req.arrayBuffer());
      if (body.byteLength > max) throw tooLarge(max);
      return body.byteLength ? body : null;
    },
    onClientGone: (fn) => req.signal.addEventListener("abort", fn, { once: true }),
  };
}

function headerValue(v: string | string[] | undefined): string | undefined {
  return Array.isArray(v) ? v.join(", ") : v;
}

/**
 * Read a request body up to `max` bytes; larger → 413. Past the limit the rest is drained and
 * dropped (not destroyed: the socket must stay open for the 413 to reach the caller).
 */
function readNodeBody(incoming: IncomingMessage, max: number): Promise<Uint8Array | null> {
  const declared = Number(incoming.headers["content-length"] ?? NaN);
  if (declared > max) {
    incoming.resume();
    return Promise.reject(tooLarge(max));
  }
  return new Promise((resolve, reject) => {
    const parts: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer) => {
      size += chunk.byteLength;
      if (size <= max) return void parts.push(chunk);
      incoming.off("data", onData);
      incoming.resume();
      parts.length = 0;
      reject(tooLarge(max));
    };
    incoming.on("data", onData);
    // The caller hung up while sending: nothing to answer, but the call is recorded as 499.
    incoming.once("error", () => reject(new ApiError(499 as 400, "client_closed_request", "client_closed_request", "client closed the connection while sending the request")));
    incoming.once("end", () => {
      if (size > max) return;
      resolve(size === 0 ? null : parts.length === 1 ? parts[0]! : Buffer.concat(parts, size));
    });
  });
}

export function tooLarge(max: number): ApiError {
  return new ApiError(413, "invalid_request_error", "request_too_large", `request body is larger than the limit of ${max} bytes (MAX_BODY_BYTES)`);
}
