import OpenAI from "openai";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { UNPRICED_MODEL } from "../../server/demo/catalog.ts";
import { startNscaleSimulator, type NscaleSimulator } from "../../server/demo/nscale-simulator.ts";

const MODEL = "meta-llama/Llama-3.1-8B-Instruct";
const messages = [
  { role: "system" as const, content: "You are terse." },
  { role: "user" as const, content: "Summarise last week's GPU spend for the search team" },
];
// The simulator counts prompt tokens like the fake upstream: words + 3 per message.
const PROMPT_TOKENS = 3 + 3 + 3 + 9;

describe("Nscale simulator", () => {
  let sim: NscaleSimulator;
  let client: OpenAI;
  beforeAll(async () => {
    sim = await startNscaleSimulator({ seed: 1, latencyScale: 0, faults: false });
    client = new OpenAI({ baseURL: sim.url, apiKey: "sk-demo-test-key-0000", maxRetries: 0 });
  });
  afterAll(() => sim.close());

  it("listens on loopback only", () => {
    expect(new URL(sim.url).hostname).toBe("127.0.0.1");
  });

  it("answers a chat completion as JSON with usage and an x-request-id", async () => {
    const { data, response } = await client.chat.completions.create({ model: MODEL, messages, max_tokens: 40 }).withResponse();
    expect(response.status).toBe(200);
    expect(response.headers.get("x-request-id")).toBe(data.id);
    expect(data.object).toBe("chat.completion");
    expect(data.model).toBe(MODEL);
    const content = data.choices[0]?.message.content ?? "";
    expect(data.usage?.prompt_tokens).toBe(PROMPT_TOKENS);
    expect(data.usage?.completion_tokens).toBe(content.split(" ").length);
    expect(data.usage?.completion_tokens).toBeLessThanOrEqual(40);
    expect(data.usage?.total_tokens).toBe(PROMPT_TOKENS + (data.usage?.completion_tokens ?? 0));
    expect(["stop", "length"]).toContain(data.choices[0]?.finish_reason);
  });

  it("varies the answer length around a quarter of max_tokens", async () => {
    const lengths = await Promise.all(
      Array.from({ length: 40 }, async () => (await client.chat.completions.create({ model: MODEL, messages, max_tokens: 400 })).usage?.completion_tokens ?? 0),
    );
    expect(new Set(lengths).size).toBeGreaterThan(10);
    const median = lengths.sort((a, b) => a - b)[20] ?? 0;
    expect(median).toBeGreaterThan(50);
    expect(median).toBeLessThan(200);
  });

  it("streams SSE chunks, then the usage chunk when include_usage is asked", async () => {
    const stream = await client.chat.completions.create({ model: MODEL, messages, max_tokens: 30, stream: true, stream_options: { include_usage: true } });
    let text = "";
    let usage: OpenAI.CompletionUsage | null | undefined;
    let chunks = 0;
    for await (const chunk of stream) {
      chunks++;
      text += chunk.choices[0]?.delta.content ?? "";
      if (chunk.usage) {
        usage = chunk.usage;
        expect(chunk.choices).toEqual([]);
      }
    }
    expect(usage?.prompt_tokens).toBe(PROMPT_TOKENS);
    expect(usage?.completion_tokens).toBe(text.split(" ").length);
    // role chunk + one per token + finish chunk + usage chunk
    expect(chunks).toBe((usage?.completion_tokens ?? 0) + 3);
  });

  it("sends no usage chunk unless asked", async () => {
    const stream = await client.chat.completions.create({ model: MODEL, messages, max_tokens: 10, stream: true });
    for await (const chunk of stream) expect(chunk.usage ?? null).toBeNull();
  });

  it("lists models with prices, and the unpriced one without", async () => {
    const models = (await client.models.list()).data as unknown as { id: string; pricing?: { input: number; output: number } }[];
    expect(models.find((m) => m.id === MODEL)?.pricing).toEqual({ input: 0.03, output: 0.03 });
    expect(models.find((m) => m.id === UNPRICED_MODEL)).toBeDefined();
    expect(models.find((m) => m.id === UNPRICED_MODEL)?.pricing).toBeUndefined();
  });

  it("answers 401 without a key and 404 for an unknown model, in Nscale's error shape", async () => {
    const res = await fetch(`${sim.url}/chat/completions`, { method: "POST", body: JSON.stringify({ model: MODEL, messages }) });
    expect(res.status).toBe(401);
    expect(await res.json()).toMatchObject({ error: { type: "authentication_error", code: "invalid_service_token" } });
    await expect(client.chat.completions.create({ model: "meta-llama/Nope", messages })).rejects.toMatchObject({ status: 404 });
  });
});

describe("Nscale simulator faults and latency", () => {
  it("answers 429 insufficient credit when the credit is out", async () => {
    const sim = await startNscaleSimulator({ latencyScale: 0, faults: { insufficientCredit: 1 } });
    try {
      const client = new OpenAI({ baseURL: sim.url, apiKey: "sk-demo-test-key-0000", maxRetries: 0 });
      const err = await client.chat.completions.create({ model: MODEL, messages }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(OpenAI.APIError);
      expect((err as InstanceType<typeof OpenAI.APIError>).status).toBe(429);
      expect((err as InstanceType<typeof OpenAI.APIError>).type).toBe("insufficient_credit");
    } finally {
      await sim.close();
    }
  });

  it("sends an error event inside a 200 stream", async () => {
    // Every other fault off: with the default shares, 2.3 % of calls failed before the stream began.
    const sim = await startNscaleSimulator({ latencyScale: 0, faults: { insufficientCredit: 0, internalError: 0, unavailable: 0, slow: 0, streamError: 1 } });
    try {
      const client = new OpenAI({ baseURL: sim.url, apiKey: "sk-demo-test-key-0000", maxRetries: 0 });
      const stream = await client.chat.completions.create({ model: MODEL, messages, max_tokens: 50, stream: true });
      const read = async () => {
        for await (const chunk of stream) void chunk;
      };
      await expect(read()).rejects.toThrow(/model overloaded/);
    } finally {
      await sim.close();
    }
  });

  it("streams at a realistic pace: TTFT 150–600 ms, then tens of tokens per second", async () => {
    const sim = await startNscaleSimulator({ seed: 3, faults: false });
    try {
      const client = new OpenAI({ baseURL: sim.url, apiKey: "sk-demo-test-key-0000", maxRetries: 0 });
      const started = performance.now();
      const stream = await client.chat.completions.create({ model: MODEL, messages, max_tokens: 40, stream: true, stream_options: { include_usage: true } });
      let first: number | null = null;
      let tokens = 0;
      for await (const chunk of stream) {
        if (chunk.choices[0]?.delta.content) first ??= performance.now() - started;
        tokens = chunk.usage?.completion_tokens ?? tokens;
      }
      const total = performance.now() - started;
      // Delays only grow on a loaded machine, so lower bounds are safe to assert; an upper bound
      // on wall-clock pace is not (a blocked event loop delivers the rest in one burst).
      expect(first).toBeGreaterThanOrEqual(140);
      expect(tokens).toBeGreaterThan(3);
      // Streaming pace: at most ~120 tokens/s, so the whole reply takes at least this long.
      expect(total).toBeGreaterThanOrEqual(140 + ((tokens - 1) * 1000) / 200);
    } finally {
      await sim.close();
    }
  });
});
