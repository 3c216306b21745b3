import type { IncomingMessage, ServerResponse } from "node:http";
import type { AppDeps } from "../app.ts";
import type { ShutdownState } from "../draining.ts";
import { ApiError, errorBody } from "../errors.ts";
import { readAttribution } from "./attribution.ts";
import { CallerSecrets } from "./caller-credentials.ts";
import { CallTracker } from "./call-tracker.ts";
import { fingerprintKey } from "./fingerprint.ts";
import { headerValue, readBody } from "./inbound.ts";
import { parseJsonObject } from "./parse-json-body.ts";
import { forwardCall, type RecordingClientDeps } from "./recording-client.ts";
import { sendJson } from "./send-json.ts";
import type { JournaledRecorder } from "../recorder/journaled-recorder.ts";
import { resolveProxyPath } from "./target-path.ts";

// Endpoints whose body must be a JSON object (the rest of /v1/* passes through as bytes).
const JSON_ENDPOINTS = /^\/(chat\/completions|completions|embeddings)$/;

/**
 * Whether a request target belongs to the proxy: /v1 and everything below it. `/v1\…` too, as
 * URL parsers read `\` as `/`: the proxy resolves it or refuses it (target-path.ts).
 */
export function isProxyTarget(url: string | undefined): boolean {
  if (url === undefined || !url.startsWith("/v1")) return false;
  return url.length === 3 || url[3] === "/" || url[3] === "?" || url[3] === "\\";
}

export type ProxyDeps = Pick<AppDeps, "config" | "clock" | "log"> & {
  recorder: JournaledRecorder;
  agent: RecordingClientDeps["agent"];
  /** Tells a call cut off by tollbooth's own shutdown from one its caller closed. */
  shutdown: ShutdownState;
};

/**
 * /v1/*: the OpenAI-compatible surface, as a plain node:http handler in front of the Hono app
 * (server/http-server.ts). Checks only what it must (attribution headers, size, JSON), records
 * every call that reaches it, and forwards the rest unchanged. The upstream is configuration
 * only: nothing in a request can change where the caller's key is sent.
 *
 * Why not a Hono route: the proxy needs none of Hono's routing, context or WHATWG Request and
 * Response objects, and building them cost about 15 of the ~150 µs of CPU the proxy spent per JSON
 * call in the gateway benchmark (docs/architecture.md, "Why /v1 bypasses Hono").
 */
export function createProxyHandler(deps: ProxyDeps): (req: IncomingMessage, res: ServerResponse) => void {
  const client = { config: deps.config, agent: deps.agent, log: deps.log };
  return (req, res) => void handle(deps, client, req, res);
}

async function handle(deps: ProxyDeps, client: RecordingClientDeps, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const target = req.url ?? "/v1";
  const method = req.method ?? "GET";
  const queryAt = target.indexOf("?");
  const tracker = new CallTracker(deps.recorder, deps.config, {
    endpoint: queryAt === -1 ? target : target.slice(0, queryAt),
    createdAt: deps.clock.now(),
    keyId: fingerprintKey(headerValue(req.headers.authorization)),
    attribution: { team: null, project: null, user: null },
    secrets: CallerSecrets.fromHeaders(req.headers),
  }, deps.shutdown);
  try {
    const { pathname, upstreamPath } = resolveProxyPath(target);
    tracker.start.endpoint = pathname;
    tracker.start.attribution = readAttribution((name) => headerValue(req.headers[name]));
    const body = method !== "GET" && method !== "HEAD" ? await readBody(req, deps.config.MAX_BODY_BYTES) : null;
    tracker.requestBody = body;
    const json = method === "POST" && JSON_ENDPOINTS.test(pathname.slice("/v1".length)) ? parseJsonObject(body) : null;
    if (json && typeof json.model === "string") tracker.model = json.model;
    await forwardCall(client, { tracker, method, path: upstreamPath, headers: req.headers, body, json, response: res });
  } catch (err) {
    const apiErr =
      err instanceof ApiError ? err : new ApiError(500, "server_error", "internal_error", `tollbooth failed to proxy the call: ${(err as Error).message}`);
    if (!(err instanceof ApiError)) deps.log.error(`proxy: ${tracker.scrub((err as Error).stack ?? String(err))}`);
    tracker.finish({ status: apiErr.status, errorType: apiErr.type, errorMessage: apiErr.message });
    if (res.headersSent) res.destroy();
    else sendJson(res, apiErr.status, errorBody(apiErr.message, apiErr.type, apiErr.code), { "x-tollbooth-request-id": tracker.requestId });
  }
}
