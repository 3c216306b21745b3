import OpenAI from "openai";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { BAD_JSON_BODY, STREAM_ERROR } from "../fake-upstream.ts";
import { startTestServer, waitFor } from "../harness.ts";
import { CALLER_KEY, chatBody, postChat, sseData, startProxyRig, type ProxyRig } from "./proxy-harness.ts";
import { syncOrm } from "../sync-orm.ts";

let rig: ProxyRig;

beforeAll(async () => {
  rig = await startProxyRig({ UPSTREAM_TIMEOUT_MS: "400", MAX_BODY_BYTES: "4096" });
});
afterAll(() => rig.stop());
beforeEach(() => rig.upstream.reset());

const requestId = (r: Response) => r.headers.get("x-tollbooth-request-id");
const openAiShape = { error: { message: expect.any(String), type: expect.any(String), code: expect.anything() } };

describe("upstream failures pass through unchanged and are recorded", () => {
  it.each([401, 403, 404, 409, 429, 500, 503])("upstream %i: same status and body, error recorded", async (status) => {
    const direct = await fetch(`${rig.upstream.url}/chat/completions`, {
      method: "POST",
      headers: { authorization: `Bearer ${CALLER_KEY}`, "content-type": "application/json", "x-fake-scenario": `status-${status}` },
      body: JSON.stringify(chatBody()),
    });
    const res = await postChat(rig, chatBody(), { "x-fake-scenario": `status-${status}` });
    expect(res.status).toBe(status);
    const text = await res.text();
    expect(text).toBe(await direct.text());
    const upstreamError = JSON.parse(text).error;
    const row = await rig.waitForCall(requestId(res));
    expect(row).toMatchObject({ status, errorType: upstreamError.type, errorMessage: upstreamError.message, usageSource: "none" });
    // LOG_BODIES=errors (default): the failed call's bodies are kept.
    expect(JSON.parse(rig.bodies(row.id)!.response_body!)).toEqual(JSON.parse(text));
  });

  it("reads error objects whose code is a number", async () => {
    const res = await postChat(rig, chatBody(), { "x-fake-scenario": "status-429", "x-fake-error-code-number": "1" });
    expect(res.status).toBe(429);
    expect(typeof (await res.json()).error.code).toBe("number");
    expect((await rig.waitForCall(requestId(res))).errorType).toBeTruthy();
  });

  it("the openai SDK sees upstream's 429 as a RateLimitError", async () => {
    const openai = new OpenAI({ baseURL: rig.baseURL, apiKey: CALLER_KEY, maxRetries: 0 });
    await expect(
      openai.chat.completions.create(chatBody() as OpenAI.ChatCompletionCreateParamsNonStreaming, { headers: { "x-fake-scenario": "status-429" } }),
    ).rejects.toBeInstanceOf(OpenAI.RateLimitError);
  });

  it("an error inside a 200 stream keeps the status and sets error_type", async () => {
    const res = await postChat(rig, chatBody({ stream: true }), { "x-fake-scenario": "stream-error" });
    expect(res.status).toBe(200);
    const events = sseData(await res.text());
    expect(JSON.parse(events.at(-1)!)).toEqual({ error: STREAM_ERROR });
    const row = await rig.waitForCall(requestId(res));
    expect(row).toMatchObject({ status: 200, errorType: STREAM_ERROR.type, errorMessage: STREAM_ERROR.message, usageSource: "estimated" });
    expect(row.completionTokens).toBeGreaterThan(0);
  });

  it("a stream whose only event is an error is recorded without usage and without an estimated cost", async () => {
    const res = await postChat(rig, chatBody({ stream: true }), { "x-fake-scenario": "stream-error-first" });
    expect(res.status).toBe(200);
    expect(sseData(await res.text()).map((e) => JSON.parse(e))).toEqual([{ error: STREAM_ERROR }]);
    const row = await rig.waitForCall(requestId(res));
    expect(row).toMatchObject({ status: 200, errorType: STREAM_ERROR.type, usageSource: "none", promptTokens: null, completionTokens: null });
    // A priced model: nothing generated and no usage reported costs nothing, not an estimated prompt.
    expect(row.costNano).toBe(0);
  });

  it("a stream cut off halfway is recorded as 502 with estimated tokens", async () => {
    const res = await postChat(rig, chatBody({ stream: true }), { "x-fake-scenario": "stream-cut", "x-fake-chunks": "10" });
    const events = sseData(await res.text());
    expect(JSON.parse(events.at(-1)!).error.type).toBe("upstream_stream_interrupted");
    const row = await rig.waitForCall(requestId(res));
    expect(row).toMatchObject({ status: 502, errorType: "upstream_stream_interrupted", usageSource: "estimated" });
    expect(row.completionTokens).toBeGreaterThan(0);
  });

  it("a 200 whose body is not JSON is flagged", async () => {
    const res = await postChat(rig, chatBody(), { "x-fake-scenario": "bad-json" });
    expect(res.status).toBe(200);
    expect(await res.text()).toBe(BAD_JSON_BODY);
    expect(await rig.waitForCall(requestId(res))).toMatchObject({ status: 200, errorType: "invalid_upstream_response" });
  });
});

describe("LOG_BODIES=errors (the default)", () => {
  it("keeps no bodies of successful calls, JSON or streamed, and keeps those of failed ones", async () => {
    const ok = await postChat(rig, chatBody());
    const streamed = await postChat(rig, chatBody({ stream: true }));
    const failed = await postChat(rig, chatBody(), { "x-fake-scenario": "status-500" });
    await Promise.all([ok.text(), streamed.text(), failed.text()]);
    const [okRow, streamRow, failedRow] = await Promise.all([ok, streamed, failed].map((r) => rig.waitForCall(requestId(r))));
    expect([okRow!.status, streamRow!.status, failedRow!.status]).toEqual([200, 200, 500]);
    expect(rig.bodies(okRow!.id)).toBeUndefined();
    expect(rig.bodies(streamRow!.id)).toBeUndefined();
    expect(rig.bodies(failedRow!.id)?.request_body).toContain("Say hello");
  });
});

describe("failures the proxy produces itself are answered and recorded", () => {
  it("upstream slower than UPSTREAM_TIMEOUT_MS → 504", async () => {
    const res = await postChat(rig, chatBody(), { "x-fake-scenario": "slow", "x-fake-delay-ms": "2000" });
    expect(res.status).toBe(504);
    expect(await res.json()).toMatchObject(openAiShape);
    expect(await rig.waitForCall(requestId(res))).toMatchObject({ status: 504, errorType: "upstream_timeout" });
  });

  it("a stream that stalls longer than UPSTREAM_TIMEOUT_MS → in-band error, recorded 504", async () => {
    const res = await postChat(rig, chatBody({ stream: true }), { "x-fake-scenario": "stream-stall" });
    expect(res.status).toBe(200);
    const events = sseData(await res.text());
    expect(JSON.parse(events.at(-1)!).error.type).toBe("upstream_timeout");
    const row = await rig.waitForCall(requestId(res));
    expect(row).toMatchObject({ status: 504, errorType: "upstream_timeout", usageSource: "estimated" });
    expect(row.completionTokens).toBeGreaterThan(0);
  });

  it("upstream unreachable → 502", async () => {
    const lonely = await startTestServer({ UPSTREAM_BASE_URL: "http://127.0.0.1:9/v1" });
    try {
      const res = await fetch(`${lonely.url}/v1/chat/completions`, {
        method: "POST",
        headers: { authorization: `Bearer ${CALLER_KEY}`, "content-type": "application/json" },
        body: JSON.stringify(chatBody()),
      });
      expect(res.status).toBe(502);
      expect(await res.json()).toMatchObject({ error: { type: "upstream_unreachable" } });
      const row = await waitFor(() => syncOrm(lonely.db).query.calls.findFirst().sync());
      expect(row).toMatchObject({ status: 502, errorType: "upstream_unreachable", model: chatBody().model });
    } finally {
      await lonely.stop();
    }
  });

  it("client disconnects mid-stream → upstream aborted, 499 recorded with tokens seen so far", async () => {
    const aborter = new AbortController();
    const res = await postChat(rig, chatBody({ stream: true }), { "x-fake-chunks": "50", "x-fake-chunk-delay-ms": "40" }, { signal: aborter.signal });
    const id = requestId(res);
    const reader = res.body!.getReader();
    let received = "";
    while (!received.includes("tok3")) received += new TextDecoder().decode((await reader.read()).value);
    aborter.abort();
    const row = await rig.waitForCall(id);
    expect(row).toMatchObject({ status: 499, errorType: "client_closed_request", usageSource: "estimated", stream: true });
    expect(row.completionTokens).toBeGreaterThanOrEqual(4);
    expect(row.completionTokens).toBeLessThan(100);
    await waitFor(() => rig.upstream.aborted === 1);
  });

  it("client disconnects before upstream answered → upstream aborted, 499 recorded", async () => {
    const aborter = new AbortController();
    const pending = postChat(rig, chatBody(), { "x-fake-scenario": "slow", "x-fake-delay-ms": "300" }, { signal: aborter.signal });
    await waitFor(() => rig.upstream.requests.length === 1);
    aborter.abort();
    await expect(pending).rejects.toThrow();
    const row = await waitFor(() => rig.rows().find((r) => r.status === 499 && !r.stream));
    expect(row.errorType).toBe("client_closed_request");
  });

  it("malformed JSON → 400 without calling upstream, recorded", async () => {
    const res = await postChat(rig, '{"model": "x", "messages": [');
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({ error: { type: "invalid_request_error", code: "invalid_json" } });
    expect(rig.upstream.requests).toHaveLength(0);
    expect(await rig.waitForCall(requestId(res))).toMatchObject({ status: 400, errorType: "invalid_request_error" });
  });

  it("body over MAX_BODY_BYTES → 413 without calling upstream, recorded", async () => {
    const res = await postChat(rig, chatBody({ messages: [{ role: "user", content: "x".repeat(5000) }] }));
    expect(res.status).toBe(413);
    expect(await res.json()).toMatchObject({ error: { code: "request_too_large" } });
    expect(rig.upstream.requests).toHaveLength(0);
    expect(await rig.waitForCall(requestId(res))).toMatchObject({ status: 413 });
  });

  it("chunked body over MAX_BODY_BYTES (no content-length) → 413", async () => {
    const big = new TextEncoder().encode(JSON.stringify(chatBody({ messages: [{ role: "user", content: "y".repeat(9000) }] })));
    const body = new ReadableStream({
      start(c) {
        for (let i = 0; i < big.length; i += 1000) c.enqueue(big.subarray(i, i + 1000));
        c.close();
      },
    });
    const res = await postChat(rig, "", {}, { body, duplex: "half" } as RequestInit);
    expect(res.status).toBe(413);
    expect(rig.upstream.requests).toHaveLength(0);
  });

  it.each([
    ["x-tollbooth-team", "a".repeat(129)],
    ["x-tollbooth-user", "bad\tvalue"],
  ])("invalid %s → 400 naming the header, recorded", async (header, value) => {
    const res = await postChat(rig, chatBody(), { [header]: value });
    expect(res.status).toBe(400);
    expect((await res.json()).error.message).toContain(header);
    expect(rig.upstream.requests).toHaveLength(0);
    expect(await rig.waitForCall(requestId(res))).toMatchObject({ status: 400, team: null, user: null });
  });
});
