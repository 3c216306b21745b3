import OpenAI from "openai";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { contentDeltas, expectedUsage, fakeContent } from "../fake-upstream.ts";
import { CALLER_KEY, chatBody, postChat, sseData, startProxyRig, type ProxyRig } from "./proxy-harness.ts";

let rig: ProxyRig;
let openai: OpenAI;

beforeAll(async () => {
  rig = await startProxyRig({ LOG_BODIES: "all" });
  openai = new OpenAI({ baseURL: rig.baseURL, apiKey: CALLER_KEY, maxRetries: 0 });
});
afterAll(() => rig.stop());
beforeEach(() => rig.upstream.reset());

const requestId = (r: { headers: Headers }) => r.headers.get("x-tollbooth-request-id");

describe("every call recorded once, with upstream's token numbers", () => {
  it("records a JSON chat completion made with the openai SDK", async () => {
    const body = chatBody();
    const { data: res, response } = await openai.chat.completions
      .create(body as OpenAI.ChatCompletionCreateParamsNonStreaming, {
        headers: { "X-Tollbooth-Team": "ml", "X-Tollbooth-Project": "search", "X-Tollbooth-User": "ana" },
      })
      .withResponse();
    expect(res.choices[0]!.message.content).toBe(fakeContent());
    const usage = expectedUsage(body);
    expect(res.usage).toMatchObject(usage);

    const row = await rig.waitForCall(requestId(response));
    expect(row).toMatchObject({
      model: body.model,
      endpoint: "/v1/chat/completions",
      stream: false,
      status: 200,
      errorType: null,
      promptTokens: usage.prompt_tokens,
      completionTokens: usage.completion_tokens,
      totalTokens: usage.total_tokens,
      usageSource: "upstream",
      team: "ml",
      project: "search",
      user: "ana",
      upstreamRequestId: expect.stringMatching(/^fake-req-/),
    });
    expect(row.durationMs).toBeGreaterThanOrEqual(0);
    expect(row.keyId).toMatch(/^[0-9a-f]{12}\.\.WXYZ$/);
  });

  it("forwards the caller's Authorization unchanged and strips X-Tollbooth-* headers", async () => {
    await postChat(rig, chatBody(), { "x-tollbooth-team": "ml", "x-custom": "kept" });
    const seen = rig.upstream.requests.at(-1)!;
    expect(seen.headers.authorization).toBe(`Bearer ${CALLER_KEY}`);
    expect(seen.headers["x-custom"]).toBe("kept");
    expect(Object.keys(seen.headers).filter((h) => h.startsWith("x-tollbooth"))).toEqual([]);
  });

  it("passes a JSON body through byte for byte", async () => {
    const body = chatBody({ temperature: 0.2 });
    const direct = await fetch(`${rig.upstream.url}/chat/completions`, {
      method: "POST",
      headers: { authorization: `Bearer ${CALLER_KEY}`, "content-type": "application/json" },
      body: JSON.stringify(body),
    });
    const directText = await direct.text();
    const proxied = await postChat(rig, body);
    const proxiedText = await proxied.text();
    // The fake numbers its completions; everything else must be identical.
    const normalise = (t: string) => t.replace(/chatcmpl-\d+/, "chatcmpl-N").replace(/"created":\d+/, '"created":0');
    expect(normalise(proxiedText)).toBe(normalise(directText));
    expect(requestId(proxied)).toMatch(/^[0-9a-f-]{36}$/);
    expect(proxied.headers.get("content-type")).toBe(direct.headers.get("content-type"));
  });
});

describe("streams pass through, the usage chunk only when the caller asked", () => {
  it("streams with the SDK, hides the injected usage chunk, records upstream usage and ttft", async () => {
    const { data: stream, response } = await openai.chat.completions
      .create({ ...(chatBody() as OpenAI.ChatCompletionCreateParamsStreaming), stream: true })
      .withResponse();
    const deltas: string[] = [];
    let sawUsage = false;
    for await (const chunk of stream) {
      if (chunk.usage) sawUsage = true;
      const d = chunk.choices[0]?.delta?.content;
      if (d) deltas.push(d);
    }
    expect(deltas).toEqual(contentDeltas());
    expect(sawUsage).toBe(false);
    // The proxy asked upstream for usage on the caller's behalf.
    expect((rig.upstream.requests.at(-1)!.body as { stream_options?: unknown }).stream_options).toEqual({ include_usage: true });

    const row = await rig.waitForCall(requestId(response));
    const usage = expectedUsage(chatBody());
    expect(row).toMatchObject({ stream: true, status: 200, usageSource: "upstream", promptTokens: usage.prompt_tokens, completionTokens: 5 });
    expect(row.ttftMs).not.toBeNull();
  });

  it("keeps the usage chunk when the caller asked for it", async () => {
    const res = await postChat(rig, chatBody({ stream: true, stream_options: { include_usage: true } }));
    const events = sseData(await res.text());
    expect(events.at(-1)).toBe("[DONE]");
    const usageChunk = JSON.parse(events.at(-2)!);
    expect(usageChunk.choices).toEqual([]);
    expect(usageChunk.usage).toEqual(expectedUsage(chatBody()));
  });

  it("forwards SSE events as they arrive, not at the end", async () => {
    const started = Date.now();
    const res = await postChat(rig, chatBody({ stream: true }), { "x-fake-chunk-delay-ms": "150", "x-fake-chunks": "4" });
    const reader = res.body!.getReader();
    const first = await reader.read();
    const firstAt = Date.now() - started;
    while (!(await reader.read()).done);
    const total = Date.now() - started;
    expect(new TextDecoder().decode(first.value)).toContain("chat.completion.chunk");
    // 6 gaps of 150 ms in the whole stream; the first event must not wait for them.
    expect(total).toBeGreaterThanOrEqual(700);
    expect(firstAt).toBeLessThan(total - 500);
  });

  it("treats a 201 stream as success", async () => {
    const res = await postChat(rig, chatBody({ stream: true }), { "x-fake-scenario": "stream-201" });
    expect(res.status).toBe(201);
    expect(sseData(await res.text()).at(-1)).toBe("[DONE]");
    const row = await rig.waitForCall(requestId(res));
    expect(row).toMatchObject({ status: 201, errorType: null, usageSource: "upstream" });
  });

  it("estimates tokens with the Llama 3 tokenizer when upstream sends no usage", async () => {
    const res = await postChat(rig, chatBody({ stream: true }), { "x-fake-scenario": "stream-no-usage" });
    expect(sseData(await res.text()).at(-1)).toBe("[DONE]");
    const row = await rig.waitForCall(requestId(res));
    expect(row.usageSource).toBe("estimated");
    // "tok0 tok1 tok2 tok3 tok4" is 10 Llama 3 tokens; the prompt is 6 content tokens + template.
    expect(row.completionTokens).toBe(10);
    expect(row.promptTokens).toBeGreaterThan(6);
    expect(row.totalTokens).toBe(row.promptTokens! + row.completionTokens!);
  });
});

describe("other /v1 endpoints pass through and are recorded", () => {
  it("GET /v1/models", async () => {
    const { data: list, response } = await openai.models.list().withResponse();
    expect(list.data.map((m) => m.id)).toContain("meta-llama/Llama-3.1-8B-Instruct");
    const row = await rig.waitForCall(requestId(response));
    expect(row).toMatchObject({ endpoint: "/v1/models", status: 200, model: null, usageSource: "none" });
  });

  it("embeddings take usage from the body", async () => {
    const { data: res, response } = await openai.embeddings
      .create({ model: "intfloat/e5-mistral-7b-instruct", input: "hello there world", encoding_format: "float" })
      .withResponse();
    expect(res.data[0]!.embedding.length).toBeGreaterThan(0);
    const row = await rig.waitForCall(requestId(response));
    expect(row).toMatchObject({ endpoint: "/v1/embeddings", model: "intfloat/e5-mistral-7b-instruct", usageSource: "upstream", completionTokens: 0 });
    expect(row.promptTokens).toBe(res.usage.prompt_tokens);
  });

  it("stores bodies when LOG_BODIES=all", async () => {
    const res = await postChat(rig, chatBody());
    const row = await rig.waitForCall(requestId(res));
    const bodies = rig.bodies(row.id)!;
    expect(JSON.parse(bodies.request_body!)).toEqual(chatBody());
    expect(JSON.parse(bodies.response_body!).choices[0].message.content).toBe(fakeContent());
    expect(bodies.truncated).toBe(0);
  });
});
