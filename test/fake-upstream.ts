/**
 * A fake Nscale upstream (OpenAI-compatible, vLLM-style) for integration tests, benchmarks and
 * the demo. Plain node:http, no per-request logging, keep-alive friendly, deterministic output.
 *
 * Behaviour is picked per request by the `x-fake-scenario` header, else by a body model of the
 * form `fake/<scenario>`, else `ok`. Knobs (headers):
 *   x-fake-delay-ms          delay before any response headers (all scenarios; `slow` defaults 2000)
 *   x-fake-chunk-delay-ms    delay between consecutive SSE events (default 0)
 *   x-fake-chunks            number of content tokens/chunks N (default 5)
 *   x-fake-error-code-number `1` → error objects carry a numeric `code` (Nscale sends either kind)
 *
 * The Nscale behaviour it mirrors (status codes, error shape, streaming) is described in
 * docs/nscale.md; change both together.
 */
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { sendBytes, sendJson } from "../server/proxy/inbound.ts";
import { countWords, expectedUsage as usageFor, includeUsage, isRecord, readText, sleepUnlessClosed as sleep, writeEvent, STREAM_ERROR, type Usage } from "../server/sim/wire.ts";

export { STREAM_ERROR, type Usage };

interface ReceivedRequest {
  method: string;
  /** Request target as received (path plus any query string). */
  path: string;
  /** Lowercased header names; repeated headers joined with ", ". */
  headers: Record<string, string>;
  /** Parsed JSON, or the raw string if it was not JSON, or null when empty. */
  body: unknown;
}

export interface FakeModel {
  id: string;
  pricing?: { input: number | string; output: number | string } | unknown;
  [extra: string]: unknown;
}

export interface FakeUpstream {
  /** Base URL ending in /v1, e.g. http://127.0.0.1:PORT/v1 */
  url: string;
  port: number;
  requests: ReceivedRequest[];
  /** Requests whose client went away before the response ended (not counted for stream-cut or close()). */
  aborted: number;
  /** Served by GET /v1/models; mutate or reassign freely. */
  models: FakeModel[];
  reset(): void;
  close(): Promise<void>;
}

export interface FakeUpstreamOptions {
  port?: number;
  host?: string;
  recordRequests?: boolean;
  models?: FakeModel[];
}


/** Prices in USD per 1M tokens, from the seed table in docs/nscale.md ("Published prices"). */
export const DEFAULT_MODELS: readonly FakeModel[] = [
  model("meta-llama/Llama-3.1-8B-Instruct", 0.03, 0.03, 131072),
  model("meta-llama/Llama-3.3-70B-Instruct", 0.2, 0.2, 131072),
  model("meta-llama/Llama-4-Scout-17B-16E-Instruct", 0.09, 0.29, 131072),
  model("Qwen/Qwen2.5-Coder-32B-Instruct", 0.06, 0.2, 32768),
  model("deepseek-ai/DeepSeek-R1-Distill-Llama-70B", 0.375, 0.375, 131072),
];

function model(id: string, input: number, output: number, contextLength: number): FakeModel {
  const owner = id.split("/")[0] ?? "nscale";
  return { id, object: "model", owned_by: owner, context_length: contextLength, pricing: { input, output } };
}

const DEFAULT_CHUNKS = 5;
const SLOW_DEFAULT_DELAY_MS = 2000;
/** Size of the `huge` scenario's completion content. */
const HUGE_CONTENT_BYTES = 1 << 20;
/** Body of the `bad-json` scenario: a 200 application/json that is cut mid-object. */
export const BAD_JSON_BODY = '{"id": "chatcmpl-x", "choi';
/** The in-stream error event of the `stream-error` scenario (string code variant). */

const SCENARIOS = new Set([
  "ok", "slow", "stream-201", "stream-no-usage", "stream-cut", "stream-error", "stream-error-first", "stream-stall", "bad-json", "huge",
]);

// ---------------------------------------------------------------------------------------------
// Deterministic content and usage (exported so tests can assert exact numbers)

/** Non-stream content for N chunks: "tok0 tok1 … tok{N-1}". */
export function fakeContent(chunks = DEFAULT_CHUNKS): string {
  return contentDeltas(chunks).join("");
}

/** Stream deltas whose concatenation equals fakeContent(N): "tok0 ", "tok1 ", …, "tok{N-1}". */
export function contentDeltas(chunks = DEFAULT_CHUNKS): string[] {
  return Array.from({ length: chunks }, (_, i) => (i < chunks - 1 ? `tok${i} ` : `tok${i}`));
}




/** Usage of a call answered with `chunks` content chunks (tests assert exact numbers). */
export function expectedUsage(body: unknown, chunks = DEFAULT_CHUNKS): Usage {
  return usageFor(body, chunks);
}

let hugeContent: string | undefined;
function getHugeContent(): string {
  hugeContent ??= "huge ".repeat(Math.ceil(HUGE_CONTENT_BYTES / 5)).slice(0, HUGE_CONTENT_BYTES);
  return hugeContent;
}

// ---------------------------------------------------------------------------------------------
// Errors: Nscale's error object {"error":{message,type,param,code}} (docs/nscale.md, "Errors").
// Nscale documents the statuses, not these texts: they are stand-ins.

const ERRORS: Record<number, { message: string; type: string; code: string }> = {
  400: { message: "Invalid request", type: "invalid_request_error", code: "bad_request" },
  401: { message: "Invalid service token", type: "authentication_error", code: "invalid_service_token" },
  403: { message: "Forbidden: this token may not access this resource", type: "permission_error", code: "forbidden" },
  404: { message: "The model does not exist or is not available", type: "not_found_error", code: "model_not_found" },
  409: { message: "Conflict with the current state of the resource", type: "conflict_error", code: "conflict" },
  // 429 at Nscale means the prepaid credit ran out, not only rate limiting.
  429: { message: "Insufficient credit: top up your balance to continue", type: "insufficient_credit", code: "insufficient_credit" },
  500: { message: "Internal server error", type: "server_error", code: "internal_server_error" },
  503: { message: "Service temporarily unavailable, please retry with backoff", type: "server_error", code: "service_unavailable" },
};

function errorObject(status: number, numericCode: boolean, message?: string, param: string | null = null) {
  const known = ERRORS[status];
  const fallback = { message: `HTTP ${status}`, type: status >= 500 ? "server_error" : "invalid_request_error", code: `http_${status}` };
  const e = known ?? fallback;
  return { error: { message: message ?? e.message, type: e.type, param, code: numericCode ? status : e.code } };
}

// ---------------------------------------------------------------------------------------------
// Per-request state and small I/O helpers

interface Call {
  req: IncomingMessage;
  res: ServerResponse;
  n: number;
  body: unknown;
  scenario: string;
  chunks: number;
  chunkDelayMs: number;
  numericCode: boolean;
  /** Set when we end the connection on purpose (stream-cut), so it is not counted as aborted. */
  selfClosed: boolean;
}


function header(req: IncomingMessage, name: string): string | undefined {
  const v = req.headers[name];
  return Array.isArray(v) ? v[0] : v;
}

function intHeader(req: IncomingMessage, name: string, fallback: number, max: number): number {
  const n = Number.parseInt(header(req, name) ?? "", 10);
  return Number.isFinite(n) && n >= 0 ? Math.min(n, max) : fallback;
}


function parseBody(raw: string): unknown {
  if (raw === "") return null;
  try {
    return JSON.parse(raw) as unknown;
  } catch {
    return raw;
  }
}


function sendError(call: Call, status: number, message?: string, param: string | null = null): void {
  sendJson(call.res, status, errorObject(status, call.numericCode, message, param));
}


// ---------------------------------------------------------------------------------------------
// Chat completions

function modelOf(call: Call): string {
  return isRecord(call.body) && typeof call.body.model === "string" ? call.body.model : "unknown";
}

function completion(call: Call, content: string) {
  // vLLM-style shape, including the extras Nscale passes through (stop_reason, prompt_logprobs).
  return {
    id: `chatcmpl-${call.n}`,
    object: "chat.completion",
    created: Math.floor(Date.now() / 1000),
    model: modelOf(call),
    choices: [
      { index: 0, message: { role: "assistant", content }, logprobs: null, finish_reason: "stop", stop_reason: null },
    ],
    usage: expectedUsage(call.body, call.chunks),
    prompt_logprobs: null,
  };
}

function chunk(call: Call, choices: unknown[], extra: Record<string, unknown> = {}): string {
  const base = { id: `chatcmpl-${call.n}`, object: "chat.completion.chunk", created: Math.floor(Date.now() / 1000), model: modelOf(call) };
  return JSON.stringify({ ...base, choices, ...extra });
}

function deltaChunk(call: Call, delta: Record<string, unknown>, finish: string | null = null): string {
  const choice = { index: 0, delta, logprobs: null, finish_reason: finish, ...(finish ? { stop_reason: null } : {}) };
  return chunk(call, [choice]);
}

type StreamEnd = "done" | "error" | "cut" | "stall";

/**
 * SSE stream: role chunk, one chunk per delta, then the ending. Streams may be 200 or 201 at
 * Nscale (docs/nscale.md); the usage chunk with empty `choices` is vLLM's include_usage behaviour.
 */
async function stream(call: Call, status: number, deltas: string[], end: StreamEnd, withUsage: boolean, roleChunk = true): Promise<void> {
  const { res } = call;
  res.writeHead(status, { "content-type": "text/event-stream", "cache-control": "no-cache" });
  const events = [...(roleChunk ? [deltaChunk(call, { role: "assistant", content: "" })] : []), ...deltas.map((d) => deltaChunk(call, { content: d }))];
  if (end === "done") {
    events.push(deltaChunk(call, {}, "stop"));
    if (withUsage) events.push(chunk(call, [], { usage: expectedUsage(call.body, call.chunks) }));
    events.push("[DONE]");
  } else if (end === "error") {
    // Errors can arrive inside a 200 stream as a data line with an `error` key (docs/nscale.md).
    events.push(JSON.stringify({ error: { ...STREAM_ERROR, code: call.numericCode ? 503 : STREAM_ERROR.code } }));
  }
  for (const [i, data] of events.entries()) {
    if (i > 0 && !(await sleep(call.chunkDelayMs, res))) return;
    if (!(await writeEvent(res, data))) return;
  }
  if (end === "done" || end === "error") res.end();
  else if (end === "cut") await cut(call);
  // "stall": leave the response open until the client goes away or close() destroys the socket.
}

/** Flush what was written, then drop the TCP connection without finishing the chunked body. */
async function cut(call: Call): Promise<void> {
  const socket = call.res.socket;
  if (!socket) return;
  // An empty write's callback runs once everything queued before it has reached the kernel.
  await new Promise<void>((resolve) => socket.write("", () => resolve()));
  call.selfClosed = true;
  socket.destroy();
}


async function chatCompletions(call: Call): Promise<void> {
  const b = call.body;
  if (!isRecord(b)) return sendError(call, 400, "Request body must be a JSON object");
  if (typeof b.model !== "string") return sendError(call, 400, "Field required: model", "model");
  if (!Array.isArray(b.messages)) return sendError(call, 400, "Field required: messages", "messages");

  const n = call.chunks;
  const wantsStream = b.stream === true;
  const usage = includeUsage(b);
  switch (call.scenario) {
    case "bad-json":
      // Declared JSON, not JSON: what a broken upstream sends.
      return sendBytes(call.res, 200, Buffer.from(BAD_JSON_BODY), { "content-type": "application/json" });
    case "huge": {
      const content = getHugeContent();
      if (!wantsStream) return sendJson(call.res, 200, completion(call, content));
      const size = Math.ceil(content.length / Math.max(n, 1));
      const deltas = Array.from({ length: Math.max(n, 1) }, (_, i) => content.slice(i * size, (i + 1) * size));
      return stream(call, 200, deltas, "done", usage);
    }
    // Stream-only scenarios stream whatever the request's `stream` flag says.
    case "stream-201":
      return stream(call, 201, contentDeltas(n), "done", usage);
    case "stream-no-usage":
      return stream(call, 200, contentDeltas(n), "done", false);
    case "stream-cut":
      return stream(call, 200, contentDeltas(n).slice(0, Math.max(1, Math.floor(n / 2))), "cut", false);
    case "stream-error":
      return stream(call, 200, contentDeltas(n).slice(0, 2), "error", false);
    case "stream-error-first":
      // The error event is the stream's only event: nothing generated, no usage.
      return stream(call, 200, [], "error", false, false);
    case "stream-stall":
      return stream(call, 200, contentDeltas(n).slice(0, 1), "stall", false);
    default: // ok, slow
      if (wantsStream) return stream(call, 200, contentDeltas(n), "done", usage);
      return sendJson(call.res, 200, completion(call, fakeContent(n)));
  }
}

// ---------------------------------------------------------------------------------------------
// Embeddings and models

function embeddings(call: Call): void {
  const b = call.body;
  if (!isRecord(b) || typeof b.model !== "string") return void sendError(call, 400, "Field required: model", "model");
  if (b.input === undefined) return void sendError(call, 400, "Field required: input", "input");
  const inputs: unknown[] = Array.isArray(b.input) && b.input.some((x) => typeof x !== "number") ? b.input : [b.input];
  const tokens = inputs.reduce<number>(
    (sum, x) => sum + (typeof x === "string" ? countWords(x) : Array.isArray(x) ? x.length : typeof x === "number" ? 1 : 0),
    0,
  );
  sendJson(call.res, 200, {
    object: "list",
    data: inputs.map((_, index) => ({ object: "embedding", index, embedding: [0.1, 0.2, 0.3] })),
    model: b.model,
    usage: { prompt_tokens: tokens, total_tokens: tokens },
  });
}

// ---------------------------------------------------------------------------------------------
// Server

export async function startFakeUpstream(opts: FakeUpstreamOptions = {}): Promise<FakeUpstream> {
  const record = opts.recordRequests !== false;
  let counter = 0;
  let closing = false;

  const fake: FakeUpstream = {
    url: "",
    port: 0,
    requests: [],
    aborted: 0,
    models: (opts.models ?? DEFAULT_MODELS).map((m) => ({ ...m })),
    reset() {
      fake.requests = [];
      fake.aborted = 0;
    },
    async close() {
      closing = true;
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections(); // also destroys stalled streams and keep-alive sockets
      await closed;
    },
  };

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const n = ++counter;
    const call: Call = {
      req, res, n, body: null, scenario: "ok", selfClosed: false,
      chunks: intHeader(req, "x-fake-chunks", DEFAULT_CHUNKS, 1_000_000),
      chunkDelayMs: intHeader(req, "x-fake-chunk-delay-ms", 0, 600_000),
      numericCode: header(req, "x-fake-error-code-number") === "1",
    };
    res.on("close", () => {
      if (!res.writableFinished && !call.selfClosed && !closing) fake.aborted++;
    });
    res.setHeader("x-request-id", `fake-req-${n}`);

    call.body = parseBody(await readText(req));
    const path = (req.url ?? "/").split("?")[0] ?? "/";
    if (record) fake.requests.push({ method: req.method ?? "GET", path: req.url ?? "/", headers: flatHeaders(req), body: call.body });

    const bodyModel = isRecord(call.body) && typeof call.body.model === "string" ? call.body.model : "";
    call.scenario = header(req, "x-fake-scenario") || (bodyModel.startsWith("fake/") ? bodyModel.slice(5) : "ok");
    const delay = intHeader(req, "x-fake-delay-ms", call.scenario === "slow" ? SLOW_DEFAULT_DELAY_MS : 0, 600_000);
    if (delay > 0 && !(await sleep(delay, res))) return;

    const route = `${req.method} ${path}`;
    const known = ["POST /v1/chat/completions", "POST /v1/embeddings", "GET /v1/models"];
    if (!known.includes(route)) return sendError(call, 404, `Not found: ${route}`);
    if (!/^Bearer\s+\S+/i.test(header(req, "authorization") ?? "")) return sendError(call, 401);

    const status = /^status-(\d{3})$/.exec(call.scenario);
    if (status) return statusScenario(call, Number(status[1]), bodyModel);
    if (!SCENARIOS.has(call.scenario)) return sendError(call, 400, `Unknown fake scenario: ${call.scenario}`);

    if (route === "GET /v1/models") return sendJson(res, 200, { object: "list", data: fake.models });
    if (route === "POST /v1/embeddings") return embeddings(call);
    return chatCompletions(call);
  }

  const server = createServer((req, res) => {
    handle(req, res).catch(() => {
      if (!res.headersSent && !res.destroyed) sendJson(res, 500, errorObject(500, false));
      else res.destroy();
    });
  });

  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(opts.port ?? 0, opts.host ?? "127.0.0.1", () => resolve());
  });
  fake.port = (server.address() as AddressInfo).port;
  fake.url = `http://${opts.host ?? "127.0.0.1"}:${fake.port}/v1`;
  return fake;
}

function statusScenario(call: Call, status: number, bodyModel: string): void {
  if (status < 200 || status > 599) return void sendError(call, 400, `Unsupported fake status: ${status}`);
  if (status === 204 || status === 304) {
    call.res.writeHead(status);
    return void call.res.end();
  }
  const message = status === 404 && bodyModel ? `The model \`${bodyModel}\` does not exist or is not available` : undefined;
  sendError(call, status, message);
}

function flatHeaders(req: IncomingMessage): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(req.headers)) if (v !== undefined) out[k] = Array.isArray(v) ? v.join(", ") : v;
  return out;
}
