import type { CallRecord } from "../recorder/recorder.ts";
import { errorBody } from "../errors.ts";
import { STREAM_ERROR } from "../sim/wire.ts";
import { UPSTREAM_ERRORS } from "./catalog.ts";

// The bodies the live proxy keeps for a failed call (LOG_BODIES=errors, the default), for the
// demo's seeded history: the request as the client sent it, and what the client got back:
// upstream's error object, tollbooth's own error object, or the streamed events up to the error.
// Without them most "Latest call" links on the Failures page would open a call showing "Not stored".

type CallRow = CallRecord["call"];

const PROMPT = "Summarise the attached support ticket in three bullet points for the on-call handover.";
const PARTIAL = ["Customer", " reports", " intermittent", " 503s", " on", " checkout", " since", " 09:40"];

function sse(events: unknown[]): string {
  return events.map((e) => `data: ${JSON.stringify(e)}\n\n`).join("");
}

function chunk(call: CallRow, content: string) {
  return { id: call.upstreamRequestId, object: "chat.completion.chunk", created: Math.floor(call.createdAt / 1000), model: call.model, choices: [{ index: 0, delta: { content }, finish_reason: null }] };
}

/** The stored bodies of a seeded call, or undefined for a successful one (nothing is stored). */
export function failureBodies(call: CallRow): CallRecord["bodies"] | undefined {
  const failed = call.status >= 400 || call.errorType !== null;
  if (!failed) return undefined;
  const request = JSON.stringify({ model: call.model, messages: [{ role: "user", content: PROMPT }], max_tokens: 512, ...(call.stream ? { stream: true } : {}) });
  const upstream = UPSTREAM_ERRORS[call.status as keyof typeof UPSTREAM_ERRORS];
  let response: string | null;
  if (call.status === 200 && call.errorType === STREAM_ERROR.type) {
    // An error inside a 200 stream: some content, then the error event (no [DONE]).
    response = sse([...PARTIAL.map((p) => chunk(call, p)), { error: STREAM_ERROR }]);
  } else if (call.status === 499 && call.stream && call.completionTokens !== null) {
    // The caller hung up mid-stream: what was streamed until then.
    response = sse(PARTIAL.slice(0, 4).map((p) => chunk(call, p)));
  } else if (call.status === 499) {
    response = null; // the caller left before any answer
  } else if (upstream && call.errorType === upstream.type) {
    response = JSON.stringify({ error: { message: upstream.message, type: upstream.type, param: null, code: upstream.code } });
  } else {
    // tollbooth's own answer (upstream unreachable or too slow).
    response = JSON.stringify(errorBody(call.errorMessage ?? "", call.errorType ?? "server_error", call.errorType ?? null));
  }
  return { request, response, truncated: false };
}
