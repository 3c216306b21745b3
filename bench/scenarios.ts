// The two request shapes the benchmark sends: a typical small chat completion, once as JSON and
// once streamed (the fake upstream answers with its default 5 content chunks). Attribution
// headers are set so the proxy's header validation and stripping are part of what is measured.

export interface Scenario {
  name: "json" | "stream" | "json-key";
  body: string;
  headers: Record<string, string>;
  /** A streamed answer is only complete when it ends with the [DONE] event. */
  stream: boolean;
}

const prompt =
  "Summarise the following support ticket in two sentences and suggest one next step for the " +
  "on-call engineer. The customer reports that exports time out after about thirty seconds when " +
  "the date range spans more than one quarter, and that retrying does not help.";

function chatBody(stream: boolean): string {
  return JSON.stringify({
    model: "meta-llama/Llama-3.3-70B-Instruct",
    messages: [
      { role: "system", content: "You are a concise assistant for a software support team." },
      { role: "user", content: prompt },
    ],
    max_tokens: 128,
    temperature: 0.2,
    ...(stream ? { stream: true } : {}),
  });
}

const headers = {
  "content-type": "application/json",
  authorization: "Bearer nsk-bench-not-a-real-token-0000",
  "x-tollbooth-team": "bench",
  "x-tollbooth-project": "gateway-overhead",
};

export const SCENARIOS: readonly Scenario[] = [
  { name: "json", body: chatBody(false), headers, stream: false },
  { name: "stream", body: chatBody(true), headers, stream: true },
];

/**
 * The JSON call made with a tollbooth key (server-child.ts issues it with rpm/tpm limits, and its
 * team has a hard budget), for spend control's added latency (spend-overhead.ts).
 */
export function keyedScenario(key: string): Scenario {
  return { name: "json-key", body: chatBody(false), headers: { ...headers, authorization: `Bearer ${key}` }, stream: false };
}
