import type { IncomingMessage, OutgoingHttpHeaders, ServerResponse } from "node:http";
import { ApiError } from "../errors.ts";

// The caller's side of one proxied call, read from and written to Node's request and response
// straight (the proxy is a plain node:http handler, see proxy-handler.ts). The whole-answer
// writers serve every other plain node:http answer too (/healthz, draining, the reader bridge,
// the fake and simulated upstreams).

export function headerValue(v: string | string[] | undefined): string | undefined {
  return Array.isArray(v) ? v.join(", ") : v;
}

/** Runs `fn` once if the caller goes away before the response was fully written. */
export function onClientGone(res: ServerResponse, fn: () => void): void {
  res.once("close", () => {
    if (!res.writableFinished) fn();
  });
}

/**
 * Read a request body up to `max` bytes; larger → 413. Past the limit the rest is drained and
 * dropped (not destroyed: the socket must stay open for the 413 to reach the caller).
 */
export function readBody(incoming: IncomingMessage, max: number): Promise<Uint8Array | null> {
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
    // The caller hung up while sending: nothing to answer, but the call is recorded as 499. Or
    // Node cut a body that took longer than REQUEST_TIMEOUT_MS (it has answered 408 itself).
    incoming.once("error", () => reject(timedOut(incoming) ? requestTimeout() : new ApiError({ status: 499, type: "client_closed_request", code: "client_closed_request", message: "client closed the connection while sending the request" })));
    incoming.once("end", () => {
      if (size > max) return;
      resolve(size === 0 ? null : parts.length === 1 ? parts[0]! : Buffer.concat(parts, size));
    });
  });
}

function tooLarge(max: number): ApiError {
  return new ApiError({ status: 413, type: "invalid_request_error", code: "request_too_large", message: `request body is larger than the limit of ${max} bytes (MAX_BODY_BYTES)` });
}

function timedOut(incoming: IncomingMessage): boolean {
  return (incoming.socket.errored as NodeJS.ErrnoException | null)?.code === "ERR_HTTP_REQUEST_TIMEOUT";
}

function requestTimeout(): ApiError {
  return new ApiError({ status: 408, type: "request_timeout", code: "request_timeout", message: "the request was not received within REQUEST_TIMEOUT_MS" });
}

/** Write a whole JSON answer (the proxy's own errors) with an exact Content-Length. */
export function sendJson(res: ServerResponse, status: number, body: unknown, headers: OutgoingHttpHeaders = {}): void {
  sendBytes(res, status, Buffer.from(JSON.stringify(body)), { "content-type": "application/json", ...headers });
}

/**
 * Write a whole answer in one go. Content-Length is set explicitly: writeHead() with a header
 * object commits the headers at once, and without a length Node would fall back to chunked
 * encoding for a body it already holds.
 */
export function sendBytes(res: ServerResponse, status: number, bytes: Buffer, headers: OutgoingHttpHeaders): void {
  if (res.destroyed) return;
  res.writeHead(status, { ...headers, "content-length": bytes.byteLength });
  res.end(bytes);
}
