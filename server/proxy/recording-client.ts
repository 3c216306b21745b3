import type { IncomingHttpHeaders, ServerResponse } from "node:http";
import type { Dispatcher } from "undici";
import type { Config } from "../config.ts";
import { errorBody } from "../errors.ts";
import type { Logger } from "../log.ts";
import type { CallTracker } from "./call-tracker.ts";
import { downstreamResponseHeaders, upstreamRequestHeaders } from "./forward-headers.ts";
import { estimateUsage } from "./estimate-tokens.ts";
import { onClientGone, sendBytes, sendJson } from "./inbound.ts";
import { nodeSink, pumpSse } from "./sse-pump.ts";
import { classifyUpstreamError, sendUpstream, UpstreamAbort, type UpstreamFailure } from "./upstream.ts";
import { parseErrorObject, parseUsage } from "./usage.ts";

export interface RecordingClientDeps {
  config: Pick<Config, "UPSTREAM_BASE_URL" | "UPSTREAM_TIMEOUT_MS" | "LOG_BODIES" | "BODY_CAP_BYTES">;
  agent: Dispatcher;
  log: Logger;
}

/** A call that passed the proxy's own checks, ready to go upstream. */
export interface InboundCall {
  tracker: CallTracker;
  method: string;
  /** Path below /v1 plus query string, e.g. "/chat/completions". */
  path: string;
  headers: IncomingHttpHeaders;
  body: Uint8Array | null;
  /** The parsed JSON body when there is one. */
  json: Record<string, unknown> | null;
  /** Where the caller's answer goes (streams are written to it as they arrive). */
  response: ServerResponse;
}

const FAILURE_STATUS = { timeout: 504, unreachable: 502, aborted: 499 } as const;
const FAILURE_TYPE = { timeout: "upstream_timeout", unreachable: "upstream_unreachable", aborted: "client_closed_request" } as const;

/**
 * The recording inference client: forwards one call to UPSTREAM_BASE_URL with the caller's own
 * credentials, hands the caller upstream's status, headers and bytes, and records the call
 * (usage, status, latency, errors) exactly once whichever way it ends.
 */
export async function forwardCall(deps: RecordingClientDeps, call: InboundCall): Promise<void> {
  const { tracker } = call;
  const streamRequested = call.json?.stream === true;
  const { body, stripUsageChunk } = upstreamBody(call, streamRequested);

  const upstreamAbort = new UpstreamAbort();
  onClientGone(call.response, () => upstreamAbort.abort());

  tracker.forwarding({ model: typeof call.json?.model === "string" ? call.json.model : null, stream: streamRequested });
  const upstreamHeaders = upstreamRequestHeaders(call.headers);
  if (tracker.span) {
    tracker.span.request(call.json);
    tracker.span.inject(upstreamHeaders);
  }
  let res: Dispatcher.ResponseData;
  try {
    res = await sendUpstream(deps.agent, {
      url: deps.config.UPSTREAM_BASE_URL.replace(/\/$/, "") + call.path,
      method: call.method,
      headers: upstreamHeaders,
      body,
      timeoutMs: deps.config.UPSTREAM_TIMEOUT_MS,
      signal: upstreamAbort,
    });
  } catch (err) {
    return failBeforeResponse(call, classifyUpstreamError(err, upstreamAbort), deps.config.UPSTREAM_TIMEOUT_MS);
  }

  const headers = downstreamResponseHeaders(res.headers);
  headers["x-tollbooth-request-id"] = tracker.requestId;
  const headerId = res.headers["x-request-id"];
  const upstreamRequestId = typeof headerId === "string" ? headerId : null;
  const contentType = String(res.headers["content-type"] ?? "");

  if (contentType.includes("text/event-stream") && res.statusCode < 300) {
    // Straight to the socket as events arrive, back-pressure via write()/'drain'.
    call.response.writeHead(res.statusCode, headers);
    return pumpSse({ deps, call, res, stripUsageChunk, upstreamAbort, headerId: upstreamRequestId }, nodeSink(call.response));
  }

  try {
    // body.arrayBuffer() rather than `for await`: no async iterator per call.
    const bytes = Buffer.from(await res.body.arrayBuffer());
    await recordBufferedResponse(call, res.statusCode, bytes, contentType, upstreamRequestId);
    sendBytes(call.response, res.statusCode, bytes, headers);
  } catch (err) {
    failBeforeResponse(call, classifyUpstreamError(err, upstreamAbort), deps.config.UPSTREAM_TIMEOUT_MS);
  }
}

/**
 * Streams always ask upstream for the usage chunk. That it comes is inferred, not documented, so
 * a stream without one is estimated (docs/nscale.md, "The usage chunk").
 */
function upstreamBody(call: InboundCall, stream: boolean): { body: Uint8Array | string | null; stripUsageChunk: boolean } {
  if (!stream || !call.json) return { body: call.body, stripUsageChunk: false };
  const options = call.json.stream_options;
  const callerAsked = typeof options === "object" && options !== null && (options as { include_usage?: unknown }).include_usage === true;
  if (callerAsked) return { body: call.body, stripUsageChunk: false };
  const patched = { ...call.json, stream_options: { ...(typeof options === "object" && options !== null ? options : {}), include_usage: true } };
  return { body: JSON.stringify(patched), stripUsageChunk: true };
}

function failBeforeResponse({ tracker, response }: InboundCall, failure: UpstreamFailure, timeoutMs: number): void {
  const status = FAILURE_STATUS[failure.kind];
  const message =
    failure.kind === "timeout"
      ? `upstream did not answer within ${timeoutMs} ms`
      : failure.kind === "unreachable"
        ? `upstream unreachable: ${failure.message}`
        : failure.message;
  tracker.finish({ status, errorType: FAILURE_TYPE[failure.kind], errorMessage: message });
  sendJson(response, status, errorBody(message, FAILURE_TYPE[failure.kind], status), { "x-tollbooth-request-id": tracker.requestId });
}

async function recordBufferedResponse(call: InboundCall, status: number, bytes: Buffer, contentType: string, headerId: string | null): Promise<void> {
  const text = bytes.toString("utf8");
  let json: unknown ;
  if (contentType.includes("json") || text.startsWith("{")) {
    try {
      json = JSON.parse(text);
    } catch {
      json = undefined;
    }
  }
  const ok = status < 400;
  const bodyId = (json as { id?: unknown } | undefined)?.id;
  const upstreamRequestId = headerId ?? (typeof bodyId === "string" ? bodyId : null);
  if (!ok) {
    const err = parseErrorObject(json);
    call.tracker.finish({
      status,
      errorType: err?.type ?? `http_${status}`,
      // Scrubbed before the cut: a cut through an echoed key would leave a piece no scrub finds.
      errorMessage: err?.message ?? (call.tracker.scrub(text.slice(0, 2048)).slice(0, 500) || `upstream answered ${status}`),
      upstreamRequestId,
      responseBody: text,
    });
    return;
  }
  const expectsJson = call.path.startsWith("/chat/completions") || call.path.startsWith("/completions") || call.path.startsWith("/embeddings");
  if (json === undefined && expectsJson) {
    call.tracker.finish({ status, errorType: "invalid_upstream_response", errorMessage: "upstream sent a body that is not JSON", upstreamRequestId, responseBody: text });
    return;
  }
  const usage = parseUsage((json as { usage?: unknown } | undefined)?.usage);
  const bodyModel = (json as { model?: unknown } | undefined)?.model;
  const answered = { upstreamRequestId, responseBody: text, responseModel: typeof bodyModel === "string" ? bodyModel : null, outputText: () => replyText(json) };
  if (usage || !expectsJson) {
    call.tracker.finish({ status, usage, usageSource: "upstream", ...answered });
    return;
  }
  const estimated = await estimateUsage(call.json, replyText(json));
  call.tracker.finish({ status, usage: estimated, usageSource: "estimated", ...answered });
}

function replyText(json: unknown): string {
  const choices = (json as { choices?: unknown } | undefined)?.choices;
  if (!Array.isArray(choices)) return "";
  return choices
    .map((c) => {
      const m = (c as { message?: { content?: unknown }; text?: unknown } | null) ?? {};
      return typeof m.message?.content === "string" ? m.message.content : typeof m.text === "string" ? m.text : "";
    })
    .join("");
}
