import type { IncomingMessage, ServerResponse } from "node:http";
import { errorBody } from "../errors.ts";
import type { Logger } from "../log.ts";
import { sendJson } from "../proxy/send-json.ts";
import type { ReaderPool } from "./reader-pool.ts";
import type { ClockShare } from "./shared-clock.ts";

/**
 * Most that the serving thread buffers for a dashboard or /api request before handing it to a
 * reader. The biggest legitimate body (a price list or report settings form) is a few KB; the
 * app's own limits per route are tighter still. Without this, an unauthenticated POST could make
 * this thread buffer any amount.
 */
export const BRIDGE_MAX_BODY_BYTES = 1024 * 1024;

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
  const body = method === "GET" || method === "HEAD" ? null : await readCapped(req);
  if (body === "too-large") {
    // Answer, then drop the connection: reading the rest would only spend time on garbage.
    res.on("finish", () => req.socket.destroy());
    sendJson(res, 413, errorBody(`request body over ${BRIDGE_MAX_BODY_BYTES} bytes`, "invalid_request_error", "body_too_large"), { connection: "close" });
    return;
  }
  if (body === "aborted") return;
  const headers: [string, string][] = [];
  for (let i = 0; i < req.rawHeaders.length; i += 2) headers.push([req.rawHeaders[i]!, req.rawHeaders[i + 1]!]);
  clock.publish();
  try {
    const url = req.url ?? "/";
    const answer = await pool.dispatch({ method, url, headers, body, remoteAddress: req.socket.remoteAddress ?? null }, PINNED.test(url));
    if (res.destroyed) return;
    res.writeHead(answer.status, answer.headers.flat());
    res.end(answer.body ? Buffer.from(answer.body) : undefined);
  } catch (err) {
    log.error(`dashboard request failed: ${(err as Error).message}`);
    if (!res.headersSent) sendJson(res, 503, errorBody("the dashboard is restarting; try again", "server_error", "unavailable"), { "retry-after": "1" });
  }
}

/** The body as one ArrayBuffer, or why not. */
function readCapped(req: IncomingMessage): Promise<ArrayBuffer | null | "too-large" | "aborted"> {
  const declared = Number(req.headers["content-length"] ?? 0);
  if (declared > BRIDGE_MAX_BODY_BYTES) return Promise.resolve("too-large");
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on("data", (chunk: Buffer) => {
      size += chunk.length;
      if (size > BRIDGE_MAX_BODY_BYTES) {
        req.removeAllListeners("data");
        req.pause();
        resolve("too-large");
        return;
      }
      chunks.push(chunk);
    });
    req.on("end", () => {
      if (size > BRIDGE_MAX_BODY_BYTES) return;
      const all = Buffer.concat(chunks);
      resolve(all.byteLength === 0 ? null : all.buffer.slice(all.byteOffset, all.byteOffset + all.byteLength));
    });
    req.on("error", () => resolve("aborted"));
    req.on("aborted", () => resolve("aborted"));
  });
}
