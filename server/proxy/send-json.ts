import type { OutgoingHttpHeaders, ServerResponse } from "node:http";

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
