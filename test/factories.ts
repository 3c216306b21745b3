import { randomUUID } from "node:crypto";
import type { CallRecord } from "../server/recorder/recorder.ts";

type CallRow = CallRecord["call"];

/**
 * A valid, successful, non-streamed chat call with upstream usage; override what a test is about.
 * request_id is fresh every time, so rows never collide across tests sharing a database.
 */
export function makeCall(overrides: Partial<CallRow> = {}): CallRow {
  return {
    requestId: randomUUID(),
    createdAt: Date.now(),
    model: "meta-llama/Llama-3.3-70B-Instruct",
    endpoint: "/v1/chat/completions",
    stream: false,
    status: 200,
    errorType: null,
    errorMessage: null,
    promptTokens: 12,
    completionTokens: 30,
    totalTokens: 42,
    usageSource: "upstream",
    durationMs: 850,
    ttftMs: null,
    keyId: "0a1b2c3d...wxyz",
    team: null,
    project: null,
    user: null,
    upstreamRequestId: null,
    costNano: null,
    ...overrides,
  };
}
