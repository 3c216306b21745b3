import type { Server } from "node:http";
import type { Config } from "./config.ts";

/**
 * Bound how long a connection may take to send its request, so slow-loris clients (headers or a
 * body trickled a byte at a time) cannot hold sockets and memory for Node's defaults (60 s for
 * headers, 5 min for the request). Past either limit Node answers 408 and closes the socket.
 * Both cover only *receiving* the request: a response streamed for minutes is not cut.
 * Call before listen(): Node starts its checking timer when the server starts listening.
 */
export function applyRequestTimeouts(server: Server, config: Pick<Config, "HEADERS_TIMEOUT_MS" | "REQUEST_TIMEOUT_MS">): void {
  server.headersTimeout = config.HEADERS_TIMEOUT_MS;
  server.requestTimeout = config.REQUEST_TIMEOUT_MS;
  // Node looks for expired requests on a timer (30 s by default), so a 10 s limit could take 40 s
  // to bite. Checking a quarter of the shorter limit keeps the overshoot under 25 % (at most 1 s).
  const interval = Math.min(1000, Math.max(25, Math.floor(Math.min(config.HEADERS_TIMEOUT_MS, config.REQUEST_TIMEOUT_MS) / 4)));
  (server as Server & { connectionsCheckingInterval: number }).connectionsCheckingInterval = interval;
}
