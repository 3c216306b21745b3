import { newRequestId } from "../server/proxy/request-id.ts";
import type { CallRecord } from "../server/recorder/recorder.ts";

// Call rows shaped like production traffic, so every index of `calls` does real work: a handful
// of models, teams and keys, half streamed, ~3% failures that (with LOG_BODIES=errors) carry
// scrubbed, capped bodies into call_bodies. costNano is left unset, as the proxy leaves it, so
// the recorder prices each row on write.

const MODELS = [
  "meta-llama/Llama-3.1-8B-Instruct",
  "meta-llama/Llama-3.3-70B-Instruct",
  "meta-llama/Llama-4-Scout-17B-16E-Instruct",
  "Qwen/Qwen2.5-Coder-32B-Instruct",
  "deepseek-ai/DeepSeek-R1-Distill-Llama-70B",
];
const TEAMS = [null, "search", "support", "growth", "platform", "data", "mobile", "billing"];
const REQUEST_BODY = JSON.stringify({ model: MODELS[1], messages: [{ role: "user", content: "x ".repeat(300) }] });
const ERROR_BODY = JSON.stringify({ error: { message: "model overloaded", type: "server_error", param: null, code: "overloaded" } });

export function makeRecords(count: number, startMs = Date.now()): CallRecord[] {
  const out: CallRecord[] = new Array(count);
  for (let i = 0; i < count; i++) {
    const failed = i % 33 === 0;
    const stream = i % 2 === 0;
    const prompt = 50 + (i % 700);
    const completion = failed ? null : 20 + (i % 400);
    out[i] = {
      call: {
        requestId: newRequestId(startMs + i), // as the proxy assigns them (time-ordered)
        createdAt: startMs + i,
        model: MODELS[i % MODELS.length]!,
        endpoint: "/v1/chat/completions",
        stream,
        status: failed ? 503 : 200,
        errorType: failed ? "server_error" : null,
        errorMessage: failed ? "model overloaded" : null,
        promptTokens: prompt,
        completionTokens: completion,
        totalTokens: completion === null ? null : prompt + completion,
        usageSource: failed ? "none" : "upstream",
        durationMs: 200 + (i % 5000),
        ttftMs: stream && !failed ? 80 + (i % 300) : null,
        keyId: `k${(i % 50).toString().padStart(6, "0")}...ab${i % 10}c`,
        team: TEAMS[i % TEAMS.length]!,
        project: i % 3 === 0 ? "default" : null,
        user: i % 5 === 0 ? `user-${i % 40}` : null,
        upstreamRequestId: `chatcmpl-${i}`,
      },
      ...(failed ? { bodies: { request: REQUEST_BODY, response: ERROR_BODY, truncated: false } } : {}),
    };
  }
  return out;
}
