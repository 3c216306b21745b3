import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import {
  BAD_JSON_BODY,
  DEFAULT_MODELS,
  expectedUsage,
  fakeContent,
  startFakeUpstream,
  type FakeUpstream,
} from "./fake-upstream.ts";

const AUTH = { authorization: "Bearer test-key", "content-type": "application/json" };
const BODY = {
  model: "meta-llama/Llama-3.1-8B-Instruct",
  messages: [
    { role: "system", content: "You are terse." },
    { role: "user", content: [{ type: "text", text: "Say hello  world" }, { type: "image_url", image_url: { url: "x" } }] },
  ],
};

let fake: FakeUpstream;
beforeAll(async () => {
  fake = await startFakeUpstream();
});
afterAll(async () => {
  await fake.close();
});
beforeEach(() => fake.reset());

function chat(body: unknown, headers: Record<string, string> = {}, init: RequestInit = {}): Promise<Response> {
  return fetch(`${fake.url}/chat/completions`, {
    method: "POST",
    headers: { ...AUTH, ...headers },
    body: typeof body === "string" ? body : JSON.stringify(body),
    ...init,
  });
}

/** Parse an SSE body into its `data:` payloads (JSON parsed, "[DONE]" kept as a string). */
function sseData(text: string): unknown[] {
  return text
    .split("\n\n")
    .filter((e) => e.startsWith("data: "))
    .map((e) => e.slice(6))
    .map((d) => (d === "[DONE]" ? d : (JSON.parse(d) as unknown)));
}

interface Chunk {
  id: string;
  object: string;
  choices: Array<{ delta: { role?: string; content?: string }; finish_reason: string | null }>;
  usage?: unknown;
  error?: unknown;
}

function deltasOf(events: unknown[]): string {
  return (events.filter((e) => e !== "[DONE]") as Chunk[]).map((c) => c.choices[0]?.delta.content ?? "").join("");
}

async function waitUntil(fn: () => boolean, ms = 3000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!fn()) {
    if (Date.now() > deadline) throw new Error("condition not met");
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe("fake upstream: chat completions", () => {
  it("ok: vLLM-shaped JSON with deterministic content and usage", async () => {
    const res = await chat(BODY);
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("application/json");
    expect(res.headers.get("x-request-id")).toMatch(/^fake-req-\d+$/);
    const json = (await res.json()) as Record<string, unknown>;
    expect(json).toMatchObject({
      object: "chat.completion",
      model: BODY.model,
      choices: [{ index: 0, message: { role: "assistant", content: "tok0 tok1 tok2 tok3 tok4" }, finish_reason: "stop", stop_reason: null, logprobs: null }],
      prompt_logprobs: null,
    });
    expect(json.id).toMatch(/^chatcmpl-\d+$/);
    expect(typeof json.created).toBe("number");
    // 3 words + 3 (system) + 3 text-part words + 3 (user) = 12
    expect(json.usage).toEqual({ prompt_tokens: 12, completion_tokens: 5, total_tokens: 17 });
    expect(json.usage).toEqual(expectedUsage(BODY));
  });

  it("x-fake-chunks changes content and completion_tokens; request ids increment", async () => {
    const a = await chat(BODY, { "x-fake-chunks": "3" });
    const b = await chat(BODY);
    const ja = (await a.json()) as { choices: Array<{ message: { content: string } }>; usage: unknown };
    await b.text();
    expect(ja.choices[0]?.message.content).toBe("tok0 tok1 tok2");
    expect(ja.usage).toEqual(expectedUsage(BODY, 3));
    const ida = Number(a.headers.get("x-request-id")?.split("-")[2]);
    expect(b.headers.get("x-request-id")).toBe(`fake-req-${ida + 1}`);
  });

  it("records requests with lowercased headers and the parsed body", async () => {
    await (await chat({ ...BODY, stream: false }, { "X-Tollbooth-Team": "t1" })).text();
    expect(fake.requests).toHaveLength(1);
    const r = fake.requests[0]!;
    expect(r).toMatchObject({ method: "POST", path: "/v1/chat/completions", body: { ...BODY, stream: false } });
    expect(r.headers["x-tollbooth-team"]).toBe("t1");
    expect(r.headers.authorization).toBe("Bearer test-key");
  });

  it("does not record when recordRequests is false", async () => {
    const quiet = await startFakeUpstream({ recordRequests: false });
    try {
      const res = await fetch(`${quiet.url}/models`, { headers: AUTH });
      expect(res.status).toBe(200);
      await res.text();
      expect(quiet.requests).toEqual([]);
    } finally {
      await quiet.close();
    }
  });

  it("stream with include_usage: role, N deltas, finish, usage, [DONE]", async () => {
    const res = await chat({ ...BODY, stream: true, stream_options: { include_usage: true } });
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("text/event-stream");
    const events = sseData(await res.text());
    expect(events.at(-1)).toBe("[DONE]");
    const chunks = events.slice(0, -1) as Chunk[];
    expect(chunks).toHaveLength(1 + 5 + 1 + 1);
    for (const c of chunks) expect(c.object).toBe("chat.completion.chunk");
    expect(new Set(chunks.map((c) => c.id)).size).toBe(1);
    expect(chunks[0]?.choices[0]?.delta).toEqual({ role: "assistant", content: "" });
    expect(deltasOf(events)).toBe(fakeContent(5));
    expect(chunks[6]?.choices[0]).toMatchObject({ delta: {}, finish_reason: "stop" });
    expect(chunks[7]?.choices).toEqual([]);
    expect(chunks[7]?.usage).toEqual(expectedUsage(BODY));
  });

  it("stream events arrive as separate reads even with no chunk delay", async () => {
    const res = await chat({ ...BODY, stream: true });
    const reader = res.body!.getReader();
    let reads = 0;
    while (!(await reader.read()).done) reads++;
    expect(reads).toBeGreaterThan(2);
  });

  it("stream without include_usage sends no usage chunk", async () => {
    const res = await chat({ ...BODY, stream: true });
    const events = sseData(await res.text());
    expect(events.at(-1)).toBe("[DONE]");
    expect(events.some((e) => typeof e === "object" && e !== null && "usage" in e)).toBe(false);
    expect(deltasOf(events)).toBe(fakeContent(5));
  });

  it("stream-no-usage ignores include_usage", async () => {
    const res = await chat({ ...BODY, stream: true, stream_options: { include_usage: true } }, { "x-fake-scenario": "stream-no-usage" });
    const events = sseData(await res.text());
    expect(events.at(-1)).toBe("[DONE]");
    expect(events.some((e) => typeof e === "object" && e !== null && "usage" in e)).toBe(false);
  });

  it("stream-201 answers 201, scenario picked from the model name", async () => {
    const res = await chat({ ...BODY, model: "fake/stream-201", stream: true, stream_options: { include_usage: true } });
    expect(res.status).toBe(201);
    const events = sseData(await res.text());
    expect(events.at(-1)).toBe("[DONE]");
    expect((events.at(-2) as Chunk).usage).toEqual(expectedUsage(BODY));
    expect((events[1] as Chunk & { model: string }).model).toBe("fake/stream-201");
  });

  it("chunk delay spaces out the events", async () => {
    const t0 = Date.now();
    const res = await chat({ ...BODY, stream: true }, { "x-fake-chunk-delay-ms": "20", "x-fake-chunks": "3" });
    await res.text();
    // role, 3 deltas, finish, [DONE] = 6 events, 5 gaps
    expect(Date.now() - t0).toBeGreaterThanOrEqual(90);
  });

  it("x-fake-delay-ms delays the response headers (slow scenario)", async () => {
    const t0 = Date.now();
    const res = await chat(BODY, { "x-fake-scenario": "slow", "x-fake-delay-ms": "100" });
    expect(Date.now() - t0).toBeGreaterThanOrEqual(95);
    expect(res.status).toBe(200);
    expect(((await res.json()) as { usage: unknown }).usage).toEqual(expectedUsage(BODY));
  });

  it("stream-cut: connection dropped mid-stream, no [DONE]", async () => {
    const res = await chat({ ...BODY, stream: true, stream_options: { include_usage: true } }, { "x-fake-scenario": "stream-cut" });
    expect(res.status).toBe(200);
    let text = "";
    let failed = false;
    const reader = res.body!.getReader();
    const decoder = new TextDecoder();
    try {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        text += decoder.decode(value, { stream: true });
      }
    } catch {
      failed = true;
    }
    expect(failed).toBe(true);
    expect(text).toContain("tok0");
    expect(text).not.toContain("[DONE]");
    expect(text).not.toContain("usage");
    expect(fake.aborted).toBe(0); // cut on purpose: not a client abort
  });

  it("stream-error: 200, two deltas, then an error event and the end (no [DONE])", async () => {
    const res = await chat({ ...BODY, stream: true }, { "x-fake-scenario": "stream-error" });
    expect(res.status).toBe(200);
    const events = sseData(await res.text());
    expect(events).not.toContain("[DONE]");
    expect(deltasOf(events.slice(0, -1))).toBe("tok0 tok1 ");
    expect(events.at(-1)).toEqual({ error: { message: "model overloaded", type: "server_error", param: null, code: "overloaded" } });
  });

  it("bad-json: 200 application/json that does not parse", async () => {
    const res = await chat(BODY, { "x-fake-scenario": "bad-json" });
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("application/json");
    const text = await res.text();
    expect(text).toBe(BAD_JSON_BODY);
    expect(() => JSON.parse(text) as unknown).toThrow();
  });

  it("huge: ~1 MiB of content with normal usage", async () => {
    const res = await chat(BODY, { "x-fake-scenario": "huge" });
    const json = (await res.json()) as { choices: Array<{ message: { content: string } }>; usage: unknown };
    expect(json.choices[0]?.message.content.length).toBe(1 << 20);
    expect(json.usage).toEqual(expectedUsage(BODY));
  });
});

describe("fake upstream: errors", () => {
  const cases: Array<[number, string]> = [
    [401, "invalid_service_token"],
    [403, "forbidden"],
    [404, "model_not_found"],
    [409, "conflict"],
    [429, "insufficient_credit"],
    [500, "internal_server_error"],
    [503, "service_unavailable"],
    [418, "http_418"],
  ];
  it.each(cases)("status-%i returns an Nscale error object", async (status, code) => {
    const res = await chat(BODY, { "x-fake-scenario": `status-${status}` });
    expect(res.status).toBe(status);
    expect(res.headers.get("content-type")).toBe("application/json");
    const json = (await res.json()) as { error: Record<string, unknown> };
    expect(json.error).toMatchObject({ param: null, code });
    expect(typeof json.error.message).toBe("string");
    expect(typeof json.error.type).toBe("string");
  });

  it("429 means insufficient credit; numeric code on request", async () => {
    const res = await chat({ ...BODY, model: "fake/status-429" }, { "x-fake-error-code-number": "1" });
    expect(res.status).toBe(429);
    const json = (await res.json()) as { error: { message: string; code: unknown } };
    expect(json.error.message).toMatch(/credit/i);
    expect(json.error.code).toBe(429);
  });

  it("requires a Bearer token on every endpoint", async () => {
    const noAuth = { "content-type": "application/json" };
    const r1 = await fetch(`${fake.url}/chat/completions`, { method: "POST", headers: noAuth, body: JSON.stringify(BODY) });
    const r2 = await fetch(`${fake.url}/models`);
    const r3 = await fetch(`${fake.url}/embeddings`, { method: "POST", headers: noAuth, body: '{"model":"m","input":"x"}' });
    for (const r of [r1, r2, r3]) {
      expect(r.status).toBe(401);
      expect(((await r.json()) as { error: { type: string } }).error.type).toBe("authentication_error");
    }
  });

  it("400 invalid_request_error for a missing model/messages or non-JSON body", async () => {
    for (const body of ["not json", JSON.stringify({ messages: [] }), JSON.stringify({ model: "m" })]) {
      const res = await chat(body);
      expect(res.status).toBe(400);
      expect(((await res.json()) as { error: { type: string } }).error.type).toBe("invalid_request_error");
    }
  });

  it("unknown routes are 404 error objects", async () => {
    const res = await fetch(`${fake.url}/completions`, { method: "POST", headers: AUTH, body: "{}" });
    expect(res.status).toBe(404);
    expect(res.headers.get("x-request-id")).toMatch(/^fake-req-/);
    expect(((await res.json()) as { error: unknown }).error).toBeTruthy();
  });
});

describe("fake upstream: models and embeddings", () => {
  it("GET /v1/models lists models with pricing; the list is mutable", async () => {
    const res = await fetch(`${fake.url}/models`, { headers: AUTH });
    const json = (await res.json()) as { object: string; data: Array<Record<string, unknown>> };
    expect(json.object).toBe("list");
    expect(json.data).toHaveLength(DEFAULT_MODELS.length);
    expect(json.data.find((m) => m.id === "meta-llama/Llama-3.3-70B-Instruct")).toMatchObject({
      object: "model",
      owned_by: "meta-llama",
      pricing: { input: 0.2, output: 0.2 },
    });
    expect(typeof json.data[0]?.context_length).toBe("number");

    fake.models.push({ id: "acme/no-price" });
    const again = (await (await fetch(`${fake.url}/models`, { headers: AUTH })).json()) as { data: Array<{ id: string }> };
    expect(again.data.at(-1)).toEqual({ id: "acme/no-price" });
    fake.models.pop();
  });

  it("POST /v1/embeddings returns vectors and usage", async () => {
    const res = await fetch(`${fake.url}/embeddings`, {
      method: "POST",
      headers: AUTH,
      body: JSON.stringify({ model: "intfloat/e5", input: "one two three" }),
    });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({
      object: "list",
      data: [{ object: "embedding", index: 0, embedding: [0.1, 0.2, 0.3] }],
      model: "intfloat/e5",
      usage: { prompt_tokens: 3, total_tokens: 3 },
    });
  });
});

describe("fake upstream: aborts and shutdown", () => {
  it("counts a client abort of a stalled stream", async () => {
    const ac = new AbortController();
    const res = await chat({ ...BODY, stream: true }, { "x-fake-scenario": "stream-stall" }, { signal: ac.signal });
    const reader = res.body!.getReader();
    let text = "";
    while (!text.includes("tok0")) {
      const { value, done } = await reader.read();
      if (done) throw new Error("stream ended");
      text += new TextDecoder().decode(value);
    }
    expect(fake.aborted).toBe(0);
    ac.abort();
    await waitUntil(() => fake.aborted === 1);
  });

  it("counts a client abort during the header delay", async () => {
    const ac = new AbortController();
    const pending = chat(BODY, { "x-fake-delay-ms": "5000" }, { signal: ac.signal }).catch(() => "aborted");
    await waitUntil(() => fake.requests.length === 1);
    ac.abort();
    expect(await pending).toBe("aborted");
    await waitUntil(() => fake.aborted === 1);
  });

  it("completed requests are not counted as aborted", async () => {
    await (await chat({ ...BODY, stream: true })).text();
    await (await chat(BODY)).text();
    await new Promise((r) => setTimeout(r, 20));
    expect(fake.aborted).toBe(0);
  });

  it("close() returns promptly with a stalled stream open", async () => {
    const other = await startFakeUpstream();
    const res = await fetch(`${other.url}/chat/completions`, {
      method: "POST",
      headers: { ...AUTH, "x-fake-scenario": "stream-stall" },
      body: JSON.stringify({ ...BODY, stream: true }),
    });
    const reader = res.body!.getReader();
    await reader.read();
    const t0 = Date.now();
    await other.close();
    expect(Date.now() - t0).toBeLessThan(1000);
    await expect((async () => { for (;;) if ((await reader.read()).done) return "ended"; })()).rejects.toThrow();
  });
});
