import type { IncomingMessage, ServerResponse } from "node:http";
import { ApiError, errorBody } from "../errors.ts";
import type { Logger } from "../log.ts";
import { readBody, sendJson } from "../proxy/inbound.ts";
import { maxBodyBytes } from "../body-limit.ts";
import type { ReaderPool } from "./reader-pool.ts";
import type { ClockShare } from "./shared-clock.ts";

/** After a 413, discard what the client still sends for this long (or this much), then hang up. */
const DRAIN_MS = 500;
const DRAIN_BYTES = 64 * 1024 * 1024;

/** Paths whose requests share one reader's in-memory state (the login throttle). */
const PINNED = /^\/login(\/|\?|$)/;

/**
 * Everything but /v1 and /healthz: read the (capped) body on this thread, hand the request to a
 * reader thread, and write back what it answered. The database is never touched here.
 */
export function createBridge(pool: ReaderPool, clock: ClockShare, log: Logger) {
  return (req: IncomingMessage, res: ServerResponse): void => {
    void bridge(pool, clock, log, req, res);
  };
}

async function bridge(pool: ReaderPool, clock: ClockShare, log: Logger, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const method = req.method ?? "GET";
  const url = req.url ?? "/";
  const path = url.split("?")[0]!;
  // The same caps the app enforces, applied before this thread buffers anything: without them an
  // unauthenticated POST could make the serving thread hold any amount.
  const cap = maxBodyBytes(path);
  let body: ArrayBuffer | null = null;
  let oversized = false;
  if (method !== "GET" && method !== "HEAD") {
    try {
      body = transferable(await readBody(req, cap));
    } catch (err) {
      // The caller hung up or timed out while sending: nothing to answer.
      if (!(err instanceof ApiError && err.status === 413)) return;
      // Over the cap: the reader still answers (401 before 413 for a caller without credentials,
      // a page for the dashboard), from a stand-in body just over the cap; the rest is discarded.
      oversized = true;
      res.on("finish", () => discardThenHangUp(req));
    }
  }
  const headers: [string, string][] = [];
  for (let i = 0; i < req.rawHeaders.length; i += 2) headers.push([req.rawHeaders[i]!, req.rawHeaders[i + 1]!]);
  clock.publish();
  try {
    const answer = await pool.dispatch(
      { method, url, headers, body, oversized, remoteAddress: req.socket.remoteAddress ?? null },
      PINNED.test(url),
    );
    if (res.destroyed) return;
    res.writeHead(answer.status, answer.headers.flat());
    res.end(answer.body ? Buffer.from(answer.body) : undefined);
  } catch (err) {
    log.error(`dashboard request failed: ${(err as Error).message}`);
    if (!res.headersSent) sendJson(res, 503, errorBody("the dashboard is restarting; try again", "server_error", "unavailable"), { "retry-after": "1" });
  }
}

/** A body of its own to transfer to the reader (Node's buffers may share a pooled ArrayBuffer). */
function transferable(bytes: Uint8Array | null): ArrayBuffer | null {
  return bytes === null ? null : (bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer);
}

/**
 * Let a client that is still sending read our 413 (hanging up at once would make its next write
 * fail with a reset, which most clients report instead of the answer), but only for a while.
 */
function discardThenHangUp(req: IncomingMessage): void {
  let discarded = 0;
  const hangUp = () => req.socket.destroy();
  const timer = setTimeout(hangUp, DRAIN_MS);
  timer.unref();
  req.on("data", (chunk: Buffer) => {
    discarded += chunk.length;
    if (discarded > DRAIN_BYTES) hangUp();
  });
  req.on("end", () => clearTimeout(timer));
  req.resume();
}
