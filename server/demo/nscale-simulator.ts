import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { sendJson } from "../proxy/inbound.ts";
import { expectedUsage, includeUsage, readText, sleepUnlessClosed as sleep, STREAM_ERROR, writeEvent as write } from "../sim/wire.ts";
import {
  DEMO_MODELS,
  UPSTREAM_ERRORS,
  UPSTREAM_FAULTS,
  demoModel,
  sampleCompletionTokens,
  sampleTokensPerSecond,
  sampleTtftMs,
  type UpstreamFaults,
} from "./catalog.ts";
import { chance, hex, pick, seededRandom, uniform, type Random } from "./random.ts";

// A simulated Nscale inference API for the demo: OpenAI-compatible chat completions (JSON and
// SSE, vLLM-style chunks with the include_usage chunk) with per-model latency, varied answer
// lengths and the failures Nscale documents (429 insufficient credit, 500, 503, errors inside a
// stream), chosen by the simulator itself, unlike test/fake-upstream.ts whose scenarios the
// request picks. Prompt token counts follow the fake's rule (words + 3 per message).

export interface SimulatorOptions {
  port?: number;
  seed?: number;
  /** 1 = realistic latencies; 0 = answer at once (tests). */
  latencyScale?: number;
  /** Fault shares per call (see UPSTREAM_FAULTS); false = never fail. */
  faults?: Partial<UpstreamFaults> | false;
  /** How long a "slow" call hangs before answering; longer than the proxy's timeout by default. */
  stallMs?: number;
}

export interface NscaleSimulator {
  /** Base URL ending in /v1 (always on 127.0.0.1). */
  url: string;
  port: number;
  /** Chat completion requests received. */
  requests: number;
  close(): Promise<void>;
}

const NO_FAULTS: UpstreamFaults = { insufficientCredit: 0, internalError: 0, unavailable: 0, slow: 0, streamError: 0, streamWithoutUsage: 0 };

const WORDS = (
  "the model answer request token latency cost team budget customer order refund invoice search query result " +
  "summary code function test deploy cluster GPU inference stream usage report ticket priority label account " +
  "shipping policy return product feature metric dashboard weekly growth data pipeline evaluation prompt context"
).split(" ");

export async function startNscaleSimulator(opts: SimulatorOptions = {}): Promise<NscaleSimulator> {
  const r = seededRandom(opts.seed ?? Date.now());
  const scale = opts.latencyScale ?? 1;
  const faults: UpstreamFaults = opts.faults === false ? NO_FAULTS : { ...UPSTREAM_FAULTS, ...opts.faults };
  const stallMs = opts.stallMs ?? 10 * 60_000;

  const sim: NscaleSimulator = {
    url: "",
    port: 0,
    requests: 0,
    async close() {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections(); // also ends stalled calls and keep-alive sockets
      await closed;
    },
  };

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const id = `chatcmpl-${hex(r, 24)}`;
    res.setHeader("x-request-id", id);
    const raw = await readText(req);
    const route = `${req.method} ${(req.url ?? "/").split("?")[0]}`;
    if (route !== "POST /v1/chat/completions" && route !== "GET /v1/models") return sendError(res, 404, `Not found: ${route}`, "not_found_error", "not_found");
    if (!/^Bearer\s+\S+/i.test(req.headers.authorization ?? "")) {
      return sendError(res, 401, "Invalid service token", "authentication_error", "invalid_service_token");
    }
    if (route === "GET /v1/models") return sendJson(res, 200, { object: "list", data: DEMO_MODELS.map(modelEntry) });

    sim.requests++;
    let body: Record<string, unknown>;
    try {
      const parsed = JSON.parse(raw) as unknown;
      if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) throw new Error("not an object");
      body = parsed as Record<string, unknown>;
    } catch {
      return sendError(res, 400, "Request body must be a JSON object", "invalid_request_error", "bad_request");
    }
    const model = typeof body.model === "string" ? demoModel(body.model) : undefined;
    if (!model || !Array.isArray(body.messages)) {
      const what = typeof body.model === "string" ? `The model \`${body.model}\` does not exist or is not available` : "Field required: model";
      return sendError(res, !model && typeof body.model === "string" ? 404 : 400, what, "invalid_request_error", "model_not_found");
    }

    const wait = (ms: number) => sleep(ms * scale, res);
    const fault = pickFault(r, faults, body.stream === true);
    if (fault === "insufficientCredit" || fault === "internalError" || fault === "unavailable") {
      const status = fault === "insufficientCredit" ? 429 : fault === "internalError" ? 500 : 503;
      const e = UPSTREAM_ERRORS[status];
      if (!(await wait(status === 500 ? uniform(r, 80, 1500) : uniform(r, 20, 150)))) return;
      return sendError(res, status, e.message, e.type, e.code);
    }
    if (fault === "slow" && !(await sleep(stallMs, res))) return;

    const prompt = expectedUsage(body, 0).prompt_tokens;
    const maxTokens = typeof body.max_tokens === "number" ? body.max_tokens : typeof body.max_completion_tokens === "number" ? body.max_completion_tokens : undefined;
    const completion = sampleCompletionTokens(r, maxTokens);
    const finish = completion === maxTokens ? "length" : "stop";
    const ttft = sampleTtftMs(r, model, prompt);
    const msPerToken = 1000 / sampleTokensPerSecond(r, model);
    const words = Array.from({ length: completion }, (_, i) => (i === 0 ? "" : " ") + pick(r, WORDS));
    const usage = { prompt_tokens: prompt, completion_tokens: completion, total_tokens: prompt + completion };
    const created = Math.floor(Date.now() / 1000);
    const base = { id, created, model: model.id };

    if (body.stream !== true) {
      if (!(await wait(ttft + completion * msPerToken))) return;
      return sendJson(res, 200, {
        ...base,
        object: "chat.completion",
        choices: [{ index: 0, message: { role: "assistant", content: words.join("") }, logprobs: null, finish_reason: finish, stop_reason: null }],
        usage,
        prompt_logprobs: null,
      });
    }

    // Streams: headers at once, then one chunk per token at the model's pace (vLLM-style).
    res.writeHead(200, { "content-type": "text/event-stream", "cache-control": "no-cache" });
    const chunk = (choices: unknown[], extra: Record<string, unknown> = {}) => JSON.stringify({ ...base, object: "chat.completion.chunk", choices, ...extra });
    const delta = (d: Record<string, unknown>, finishReason: string | null = null) =>
      chunk([{ index: 0, delta: d, logprobs: null, finish_reason: finishReason, ...(finishReason ? { stop_reason: null } : {}) }]);
    const started = Date.now();
    if (!(await wait(ttft)) || !(await write(res, delta({ role: "assistant", content: "" })))) return;
    const stopAt = fault === "streamError" ? Math.max(1, Math.floor(completion * uniform(r, 0.1, 0.8))) : completion;
    for (let i = 0; i < stopAt; i++) {
      const due = started + (ttft + i * msPerToken) * scale - Date.now();
      if (!(await sleep(due, res)) || !(await write(res, delta({ content: words[i] })))) return;
    }
    if (fault === "streamError") {
      // Errors can arrive inside a 200 stream as a data line with an `error` key
      // (docs/nscale.md, "Errors").
      await write(res, JSON.stringify({ error: STREAM_ERROR }));
      return void res.end();
    }
    await write(res, delta({}, finish));
    if (includeUsage(body) && fault !== "streamWithoutUsage") await write(res, chunk([], { usage }));
    await write(res, "[DONE]");
    res.end();
  }

  const server = createServer((req, res) => {
    handle(req, res).catch(() => {
      if (!res.headersSent && !res.destroyed) sendError(res, 500, "Internal server error", "server_error", "internal_server_error");
      else res.destroy();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(opts.port ?? 0, "127.0.0.1", () => resolve());
  });
  sim.port = (server.address() as AddressInfo).port;
  sim.url = `http://127.0.0.1:${sim.port}/v1`;
  return sim;
}

type Fault = keyof UpstreamFaults | null;

function pickFault(r: Random, f: UpstreamFaults, stream: boolean): Fault {
  let u = r.next();
  for (const name of ["insufficientCredit", "internalError", "unavailable", "slow"] as const) {
    if ((u -= f[name]) < 0) return name;
  }
  if (!stream) return null;
  if (chance(r, f.streamError)) return "streamError";
  return chance(r, f.streamWithoutUsage) ? "streamWithoutUsage" : null;
}

function modelEntry(m: (typeof DEMO_MODELS)[number]) {
  const owner = m.id.split("/")[0] ?? "nscale";
  return { id: m.id, object: "model", owned_by: owner, context_length: m.contextLength, ...(m.pricing ? { pricing: m.pricing } : {}) };
}






/** Nscale's error object: {"error":{message,type,param,code}}. */
function sendError(res: ServerResponse, status: number, message: string, type: string, code: string): void {
  sendJson(res, status, { error: { message, type, param: null, code } });
}
