import { randomUUID } from "node:crypto";
import type { CallRecord } from "../../server/recorder/recorder.ts";
import { waitFor, type TestServer } from "../harness.ts";

type CallRow = CallRecord["call"];

/**
 * A successful chat call with upstream usage and no cost set, so the recorder's priceCall hook
 * prices it exactly as it prices a proxied call. Override what a test is about.
 */
export function spendCall(overrides: Partial<CallRow> = {}): CallRow {
  return {
    requestId: randomUUID(),
    createdAt: Date.parse("2025-03-10T12:00:00Z"),
    model: "meta-llama/Llama-3.1-8B-Instruct",
    endpoint: "/v1/chat/completions",
    stream: false,
    status: 200,
    errorType: null,
    errorMessage: null,
    promptTokens: 1000,
    completionTokens: 500,
    totalTokens: 1500,
    usageSource: "upstream",
    durationMs: 400,
    ttftMs: null,
    keyId: "key-a",
    team: null,
    project: null,
    user: null,
    upstreamRequestId: null,
    ...overrides,
  };
}

/** Record calls through the server's real Recorder and wait until they are committed. */
export async function recordCalls(server: TestServer, calls: CallRow[]): Promise<void> {
  const target = server.recorder.recorded + calls.length;
  for (const call of calls) server.recorder.enqueue({ call });
  await waitFor(() => server.recorder.recorded >= target, 15_000);
}

/** A fixed clock the test can move. */
export function fixedClock(iso: string) {
  let now = Date.parse(iso);
  return {
    now: () => now,
    set(isoOrMs: string | number) {
      now = typeof isoOrMs === "number" ? isoOrMs : Date.parse(isoOrMs);
    },
  };
}

/** GET an /api path and return the parsed JSON, failing with the body when the status is not 200. */
// biome-ignore lint/suspicious/noExplicitAny: a test reads the fields it asserts; callers that walk rows pass a type (e.g. UsageJson).
export async function getJson<T = any>(server: TestServer, path: string): Promise<T> {
  const res = await server.api(path);
  const text = await res.text();
  if (res.status !== 200) throw new Error(`GET ${path} → ${res.status}: ${text}`);
  return JSON.parse(text) as T;
}
