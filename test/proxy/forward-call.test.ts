import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import type { CallRecord } from "../../server/recorder/recorder.ts";
import { createLogger } from "../../server/log.ts";
import { CallTracker } from "../../server/proxy/call-tracker.ts";
import { CallerSecrets } from "../../server/proxy/caller-credentials.ts";
import { readBody } from "../../server/proxy/inbound.ts";
import { forwardCall } from "../../server/proxy/recording-client.ts";
import { createUpstreamAgent } from "../../server/proxy/upstream.ts";
import { contentDeltas, expectedUsage, startFakeUpstream, type FakeUpstream } from "../fake-upstream.ts";

// forwardCall on its own: a bare node:http server hands it each request with a tracker, the
// fake upstream answers, and the tracker's recorder keeps what would be journaled. The whole
// proxy (path checks, attribution, the journal) is covered over HTTP in proxy.*.test.ts.

const agent = createUpstreamAgent(4);
const config = { UPSTREAM_TIMEOUT_MS: 5_000, LOG_BODIES: "none", BODY_CAP_BYTES: 64 * 1024 } as const;
let upstream: FakeUpstream;
let front: Server;
let frontUrl: string;
let upstreamUrl = "";
let rows: CallRecord[] = [];
let starts: string[] = [];

const recorder = {
  beginCall() {},
  forwarding(start: { requestId: string }) {
    starts.push(start.requestId);
    return null as never; // the journal's handle; endCall below does not read it
  },
  endCall(record: CallRecord) {
    rows.push(record);
  },
};

beforeAll(async () => {
  upstream = await startFakeUpstream();
  upstreamUrl = upstream.url;
  front = createServer(async (req, res) => {
    const tracker = new CallTracker(
      recorder,
      config,
      { endpoint: req.url!, createdAt: Date.now(), keyId: null, attribution: { team: null, project: null, user: null }, secrets: CallerSecrets.fromHeaders(req.headers) },
      { cuttingOff: false },
    );
    const body = await readBody(req, 1_000_000);
    tracker.received(body);
    const json = body ? (JSON.parse(Buffer.from(body).toString("utf8")) as Record<string, unknown>) : null;
    const deps = { config: { ...config, UPSTREAM_BASE_URL: upstreamUrl }, agent, log: createLogger("silent") };
    await forwardCall(deps, { tracker, method: req.method!, path: req.url!.slice("/v1".length), headers: req.headers, body, json, response: res });
  });
  await new Promise<void>((resolve) => front.listen(0, "127.0.0.1", resolve));
  frontUrl = `http://127.0.0.1:${(front.address() as AddressInfo).port}`;
});
afterAll(async () => {
  await new Promise((resolve) => front?.close(resolve));
  await upstream?.close();
  await agent.close();
});
beforeEach(() => {
  rows = [];
  starts = [];
  upstreamUrl = upstream.url;
  upstream.reset();
});

const chat = (extra: Record<string, unknown> = {}) => ({ model: "meta-llama/Llama-3.1-8B-Instruct", messages: [{ role: "user", content: "hi" }], ...extra });
const post = (body: unknown) =>
  fetch(`${frontUrl}/v1/chat/completions`, { method: "POST", headers: { "content-type": "application/json", authorization: "Bearer sk-caller" }, body: JSON.stringify(body) });

describe("forwardCall", () => {
  it("passes a JSON answer through and records one row with upstream's usage, journaling the start first", async () => {
    const res = await post(chat());
    const answer = await res.json();
    expect(res.status).toBe(200);
    expect(answer.usage).toEqual(expectedUsage(chat()));
    expect(rows).toHaveLength(1);
    const { call } = rows[0]!;
    expect(res.headers.get("x-tollbooth-request-id")).toBe(call.requestId);
    expect(starts).toEqual([call.requestId]);
    expect(call).toMatchObject({ status: 200, model: "meta-llama/Llama-3.1-8B-Instruct", stream: false, usageSource: "upstream", promptTokens: answer.usage.prompt_tokens, completionTokens: answer.usage.completion_tokens });
    expect(upstream.requests[0]!.headers.authorization).toBe("Bearer sk-caller");
  });

  it("asks upstream for the usage chunk of a stream, hides it from a caller who did not ask, and records it", async () => {
    const res = await post(chat({ stream: true }));
    const text = await res.text();
    expect(res.status).toBe(200);
    expect((upstream.requests[0]!.body as { stream_options?: unknown }).stream_options).toEqual({ include_usage: true });
    expect(text).not.toContain('"usage"');
    expect(text).toContain(contentDeltas()[0]!);
    expect(rows).toHaveLength(1);
    expect(rows[0]!.call).toMatchObject({ status: 200, stream: true, usageSource: "upstream", promptTokens: expectedUsage(chat()).prompt_tokens });
  });

  it("an unreachable upstream is a recorded 502 in OpenAI's shape", async () => {
    upstreamUrl = "http://127.0.0.1:9/v1"; // the discard port: nothing listens
    const res = await post(chat());
    const body = await res.json();
    expect(res.status).toBe(502);
    expect(body.error).toMatchObject({ type: "upstream_unreachable", code: 502 });
    expect(rows.map((r) => r.call)).toMatchObject([{ status: 502, errorType: "upstream_unreachable", usageSource: "none" }]);
  });
});
