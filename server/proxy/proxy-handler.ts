import type { IncomingMessage, ServerResponse } from "node:http";
import type { AppDeps } from "../app.ts";
import type { ShutdownState } from "../draining.ts";
import { ApiError, errorBody } from "../errors.ts";
import { readAttribution, type Attribution } from "./attribution.ts";
import { CallerSecrets, credentialOf } from "./caller-credentials.ts";
import { RefusedCall, type CallerAuth, type SpendGate } from "../budgets/spend-gate.ts";
import { CallTracker, type CallStart } from "./call-tracker.ts";
import { fingerprintKey } from "./fingerprint.ts";
import { headerValue, readBody, sendJson } from "./inbound.ts";
import { forwardCall, type RecordingClientDeps } from "./recording-client.ts";
import type { JournaledRecorder } from "../recorder/journaled-recorder.ts";
import type { CallTelemetry } from "../observability/call-telemetry.ts";
import { resolveProxyPath, type ProxyPath } from "./target-path.ts";

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
  /** Metrics, span and log line per call; null when all are off. */
  telemetry: CallTelemetry | null;
  /** Tollbooth keys, rate limits and hard budgets, from memory (server/budgets/spend-gate.ts). */
  spend: SpendGate;
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
  const method = req.method ?? "GET";
  const read = readCallStart(req, deps.clock.now(), deps);
  // Built before anything can fail (readCallStart never throws), so every call gets its row.
  const span = deps.telemetry ? deps.telemetry.begin(req.headers) : null;
  const tracker = new CallTracker(deps.recorder, deps.config, read.start, deps.shutdown, deps.telemetry, span);
  try {
    if (!read.target) throw read.refused;
    const { target } = read;
    const body = method !== "GET" && method !== "HEAD" ? await readBody(req, deps.config.MAX_BODY_BYTES) : null;
    tracker.received(body);
    const json = method === "POST" && JSON_ENDPOINTS.test(target.pathname.slice("/v1".length)) ? parseJsonObject(body) : null;
    const model = typeof json?.model === "string" ? json.model : null;
    const { start } = tracker;
    let admission: Awaited<ReturnType<SpendGate["admit"]>>;
    try {
      const admitted = deps.spend.admit(read.auth, { keyId: start.keyId, team: start.attribution.team, project: start.attribution.project, model, json, bodyBytes: body?.byteLength ?? 0 });
      admission = admitted instanceof Promise ? await admitted : admitted;
    } catch (refused) {
      // A call refused by spend control keeps its model in the row (a priced model then costs 0).
      tracker.refusedFor(model);
      throw refused;
    }
    if (admission) {
      const { headers, settle } = admission;
      for (const name in headers) res.setHeader(name, headers[name]!);
      tracker.onFinish = (usage) => settle(usage, deps.recorder.enqueued);
    }
    const headers = read.auth.kind === "key" ? withUpstreamKey(req.headers, deps.spend.upstreamAuthorization()) : req.headers;
    await forwardCall(client, { tracker, method, path: target.upstreamPath, headers, body, json, response: res });
  } catch (err) {
    const apiErr =
      err instanceof ApiError ? err : new ApiError({ status: 500, type: "server_error", code: "internal_error", message: `tollbooth failed to proxy the call: ${(err as Error).message}` });
    if (!(err instanceof ApiError)) deps.log.error(`proxy: ${tracker.scrub((err as Error).stack ?? String(err))}`);
    tracker.finish({ status: apiErr.status, errorType: apiErr.type, errorMessage: apiErr.message });
    if (res.headersSent) res.destroy();
    else sendJson(res, apiErr.status, errorBody(apiErr.message, apiErr.type, apiErr.code), { ...(apiErr instanceof RefusedCall ? apiErr.headers : {}), "x-tollbooth-request-id": tracker.requestId });
  }
}

/** A tollbooth key's call goes upstream with UPSTREAM_API_KEY, never with the caller's key. */
function withUpstreamKey(headers: IncomingMessage["headers"], authorization: string): IncomingMessage["headers"] {
  const out: IncomingMessage["headers"] = { ...headers, authorization };
  delete out["x-api-key"];
  delete out["api-key"];
  return out;
}

const NO_ATTRIBUTION: Attribution = { team: null, project: null, user: null };

/**
 * The call's start from its request line and headers, without throwing: a path or attribution
 * header the proxy refuses comes back as `refused` (recorded with the raw path, or the resolved
 * path and no attribution), so the tracker can exist before the refusal is answered.
 */
function readCallStart(
  req: IncomingMessage,
  createdAt: number,
  deps: Pick<ProxyDeps, "spend" | "config">,
): { start: CallStart; target: ProxyPath; auth: CallerAuth } | { start: CallStart; target: null; refused: unknown } {
  const raw = req.url ?? "/v1";
  const queryAt = raw.indexOf("?");
  const authorization = headerValue(req.headers.authorization);
  const auth = deps.spend.authenticate(credentialOf(authorization), createdAt);
  // A tollbooth key's calls are recorded under the key's id, which stays the same across rotations.
  const keyId = auth.kind === "key" ? auth.key.keyId : fingerprintKey(authorization);
  const common = { createdAt, keyId, secrets: CallerSecrets.fromHeaders(req.headers, deps.config.UPSTREAM_API_KEY) };
  let target: ProxyPath;
  try {
    target = resolveProxyPath(raw);
  } catch (refused) {
    const endpoint = queryAt === -1 ? raw : raw.slice(0, queryAt);
    return { start: { ...common, endpoint, attribution: NO_ATTRIBUTION }, target: null, refused };
  }
  if (auth.kind === "refused") return { start: { ...common, endpoint: target.pathname, attribution: NO_ATTRIBUTION }, target: null, refused: auth.error };
  try {
    const attribution = readAttribution((name) => headerValue(req.headers[name]));
    if (auth.kind === "key") {
      // The key's team and project win over the headers: a team cannot spend as another.
      if (auth.key.team !== null) attribution.team = auth.key.team;
      if (auth.key.project !== null) attribution.project = auth.key.project;
    }
    return { start: { ...common, endpoint: target.pathname, attribution }, target, auth };
  } catch (refused) {
    return { start: { ...common, endpoint: target.pathname, attribution: NO_ATTRIBUTION }, target: null, refused };
  }
}

/** Parse a JSON object body; anything else is a 400 in OpenAI's shape. */
function parseJsonObject(body: Uint8Array | null): Record<string, unknown> {
  if (!body || body.byteLength === 0) throw new ApiError({ status: 400, type: "invalid_request_error", code: "invalid_json", message: "request body must be a JSON object" });
  let value: unknown;
  try {
    value = JSON.parse(Buffer.from(body.buffer, body.byteOffset, body.byteLength).toString("utf8"));
  } catch (err) {
    throw new ApiError({ status: 400, type: "invalid_request_error", code: "invalid_json", message: `request body is not valid JSON: ${(err as Error).message}` });
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new ApiError({ status: 400, type: "invalid_request_error", code: "invalid_json", message: "request body must be a JSON object" });
  }
  return value as Record<string, unknown>;
}
