import { createRequire } from "node:module";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CALLER_KEY, chatBody, postChat, startProxyRig, type ProxyRig } from "../proxy/proxy-harness.ts";
import { startOtlpReceiver, type OtlpReceiver } from "./otlp-receiver.ts";

// Attribute names of the OpenTelemetry semantic conventions for generative AI (client spans and
// metrics), written out here rather than imported, so a renamed constant in the code is caught.
const SPAN_ATTRIBUTES = [
  "gen_ai.operation.name",
  "gen_ai.provider.name",
  "gen_ai.request.model",
  "gen_ai.response.model",
  "gen_ai.usage.input_tokens",
  "gen_ai.usage.output_tokens",
  "gen_ai.request.max_tokens",
  "gen_ai.response.id",
  "server.address",
  "server.port",
];
const MODEL = "meta-llama/Llama-3.1-8B-Instruct";
const SPAN_KIND_CLIENT = 3; // OTLP's SpanKind enum
const INCOMING_TRACE = "4bf92f3577b34da6a3ce929d0e0e4736";
const INCOMING_PARENT = "00f067aa0ba902b7";

/** The OTel SDK's modules are CommonJS: once imported they sit in require's cache. */
const sdkLoaded = () => Object.keys(createRequire(import.meta.url).cache).some((p) => p.includes("@opentelemetry/sdk-trace"));

describe("OpenTelemetry off", () => {
  it("never loads the SDK when OTEL_EXPORTER_OTLP_ENDPOINT is unset", async () => {
    const rig = await startProxyRig();
    try {
      expect((await postChat(rig, chatBody(), { traceparent: `00-${INCOMING_TRACE}-${INCOMING_PARENT}-01` })).status).toBe(200);
      expect(sdkLoaded()).toBe(false);
      // The caller's traceparent goes upstream unchanged: tollbooth adds no span of its own.
      expect(rig.upstream.requests.at(-1)!.headers.traceparent).toBe(`00-${INCOMING_TRACE}-${INCOMING_PARENT}-01`);
    } finally {
      await rig.stop();
    }
  });
});

describe.each(["http/protobuf", "http/json"] as const)("OpenTelemetry over OTLP %s", (protocol) => {
  let receiver: OtlpReceiver;
  let rig: ProxyRig;
  let upstreamTraceparent: string;

  beforeAll(async () => {
    receiver = await startOtlpReceiver();
    rig = await startProxyRig({ OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url, OTEL_EXPORTER_OTLP_PROTOCOL: protocol, OTEL_SERVICE_NAME: "tollbooth-under-test" });
    const res = await postChat(rig, chatBody({ max_tokens: 64, messages: [{ role: "user", content: `a secret prompt, my key is ${CALLER_KEY}` }] }), {
      traceparent: `00-${INCOMING_TRACE}-${INCOMING_PARENT}-01`,
      "x-tollbooth-team": "ml",
    });
    expect(res.status).toBe(200);
    const failed = await postChat(rig, chatBody(), { "x-fake-scenario": "status-503" });
    expect(failed.status).toBe(503);
    upstreamTraceparent = rig.upstream.requests[0]!.headers.traceparent!;
    // Stopping flushes the batched spans and the last metrics.
    await rig.stop();
  });
  afterAll(() => receiver.close());

  it(`exports with ${protocol}`, () => {
    expect(sdkLoaded()).toBe(true);
    expect([...receiver.contentTypes]).toEqual([protocol === "http/json" ? "application/json" : "application/x-protobuf"]);
  });

  it("exports one CLIENT span per call with the GenAI attributes, continuing the caller's trace, as the parent of the upstream request", () => {
    expect(receiver.spans).toHaveLength(2);
    const span = receiver.spans.find((s) => s.attributes["gen_ai.response.id"] !== undefined && s.status.code !== 2)!;
    expect(span.kind).toBe(SPAN_KIND_CLIENT);
    expect(span.name).toBe(`chat ${MODEL}`);
    for (const name of SPAN_ATTRIBUTES) expect(span.attributes, name).toHaveProperty([name]);
    expect(span.attributes).toMatchObject({
      "gen_ai.operation.name": "chat",
      "gen_ai.provider.name": "nscale",
      "gen_ai.request.model": MODEL,
      "gen_ai.response.model": MODEL,
      "gen_ai.request.max_tokens": 64,
    });
    expect(span.attributes["gen_ai.usage.input_tokens"]).toBeGreaterThan(0);
    expect(span.resource["service.name"]).toBe("tollbooth-under-test");
    // The caller's trace goes on: same trace id, the caller's span as parent…
    expect(span.traceId).toBe(INCOMING_TRACE);
    expect(span.parentSpanId).toBe(INCOMING_PARENT);
    // …and upstream's request has tollbooth's span as its parent.
    expect(upstreamTraceparent).toBe(`00-${INCOMING_TRACE}-${span.spanId}-01`);
  });

  it("marks a failed call with error.type and an error status", () => {
    const failed = receiver.spans.find((s) => s.status.code === 2)!;
    expect(failed.attributes["error.type"]).toBe("server_error");
    expect(failed.attributes["http.response.status_code"]).toBe(503);
  });

  it("keeps prompts and completions out of spans unless OTEL_CAPTURE_CONTENT=true", () => {
    for (const s of receiver.spans) {
      expect(Object.keys(s.attributes).filter((k) => k.includes("messages"))).toEqual([]);
      expect(JSON.stringify(s)).not.toContain("secret prompt");
    }
  });

  it("exports the GenAI client metrics: gen_ai.client.token.usage and gen_ai.client.operation.duration", () => {
    const tokens = receiver.metrics.filter((m) => m.name === "gen_ai.client.token.usage");
    expect(tokens.length).toBeGreaterThan(0);
    expect(tokens[0]!.unit).toBe("{token}");
    const points = tokens.flatMap((m) => m.points);
    const input = points.find((p) => p.attributes["gen_ai.token.type"] === "input")!;
    expect(input.attributes).toMatchObject({ "gen_ai.operation.name": "chat", "gen_ai.provider.name": "nscale", "gen_ai.request.model": MODEL });
    expect(points.find((p) => p.attributes["gen_ai.token.type"] === "output")).toBeDefined();
    const duration = receiver.metrics.filter((m) => m.name === "gen_ai.client.operation.duration");
    expect(duration[0]!.unit).toBe("s");
    const durationPoints = duration.flatMap((m) => m.points);
    expect(durationPoints.reduce((a, p) => a + p.count, 0)).toBe(2);
    expect(durationPoints.some((p) => p.attributes["error.type"] === "server_error")).toBe(true);
  });
});

describe("OpenTelemetry with OTEL_CAPTURE_CONTENT=true", () => {
  it("puts the scrubbed prompt and the completion on the span", async () => {
    const receiver = await startOtlpReceiver();
    const rig = await startProxyRig({ OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url, OTEL_CAPTURE_CONTENT: "true" });
    try {
      const res = await postChat(rig, chatBody({ stream: true, messages: [{ role: "user", content: `a secret prompt, my key is ${CALLER_KEY}` }] }));
      const text = await res.text();
      expect(text).toContain("[DONE]");
    } finally {
      await rig.stop();
      await receiver.close();
    }
    const span = receiver.spans[0]!;
    expect(String(span.attributes["gen_ai.input.messages"])).toContain("secret prompt");
    expect(String(span.attributes["gen_ai.input.messages"])).not.toContain(CALLER_KEY);
    expect(JSON.parse(String(span.attributes["gen_ai.output.messages"]))[0].parts[0].content.length).toBeGreaterThan(0);
  });
});
