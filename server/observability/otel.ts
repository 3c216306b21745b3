import type { IncomingHttpHeaders } from "node:http";
import { defaultTextMapGetter, defaultTextMapSetter, ROOT_CONTEXT, SpanKind, SpanStatusCode, trace, type Attributes, type Histogram } from "@opentelemetry/api";
import { W3CTraceContextPropagator } from "@opentelemetry/core";
import { envDetector, detectResources, resourceFromAttributes } from "@opentelemetry/resources";
import { MeterProvider, PeriodicExportingMetricReader, type PushMetricExporter } from "@opentelemetry/sdk-metrics";
import { BasicTracerProvider, BatchSpanProcessor, type SpanExporter } from "@opentelemetry/sdk-trace-base";
import type { Config } from "../config.ts";
import type { CallRecord } from "../recorder/recorder.ts";
import { capBody, scrubSecrets } from "../recorder/scrub.ts";
import { LabelCap } from "./label-cap.ts";
import type { CallResponseFacts, CallSpan, CallTracing } from "./tracing.ts";

// The OpenTelemetry side, loaded by tracing.ts only when OTEL_EXPORTER_OTLP_ENDPOINT is set.
// One CLIENT span per call and the two GenAI client metrics, named after the OpenTelemetry
// semantic conventions for generative AI (gen_ai.*). Spans go out through a BatchSpanProcessor
// and metrics through a periodic reader: the call path only fills in objects; encoding and the
// HTTP export run on timers, in batches.

/** Upstream is Nscale's API (a value outside the conventions' list, as they allow). */
const PROVIDER = "nscale";

/** The conventions' advice for these two histograms. */
const TOKEN_BUCKETS = [1, 4, 16, 64, 256, 1024, 4096, 16384, 65536, 262144, 1048576, 4194304, 16777216, 67108864];
const DURATION_BUCKETS = [0.01, 0.02, 0.04, 0.08, 0.16, 0.32, 0.64, 1.28, 2.56, 5.12, 10.24, 20.48, 40.96, 81.92];

/** /v1 path → gen_ai.operation.name. */
function operationOf(endpoint: string): string {
  const path = endpoint.startsWith("/v1/") ? endpoint.slice(4) : endpoint;
  if (path === "chat/completions") return "chat";
  if (path === "completions") return "text_completion";
  if (path === "embeddings") return "embeddings";
  return path.split("/")[0] || "other";
}

async function exporters(config: Config): Promise<{ spans: SpanExporter; metrics: PushMetricExporter }> {
  const base = config.OTEL_EXPORTER_OTLP_ENDPOINT!.replace(/\/$/, "");
  const traces = { url: `${base}/v1/traces` };
  const metrics = { url: `${base}/v1/metrics` };
  if (config.OTEL_EXPORTER_OTLP_PROTOCOL === "http/json") {
    const [t, m] = await Promise.all([import("@opentelemetry/exporter-trace-otlp-http"), import("@opentelemetry/exporter-metrics-otlp-http")]);
    return { spans: new t.OTLPTraceExporter(traces), metrics: new m.OTLPMetricExporter(metrics) };
  }
  const [t, m] = await Promise.all([import("@opentelemetry/exporter-trace-otlp-proto"), import("@opentelemetry/exporter-metrics-otlp-proto")]);
  return { spans: new t.OTLPTraceExporter(traces), metrics: new m.OTLPMetricExporter(metrics) };
}

export async function startOtel(config: Config): Promise<CallTracing> {
  // OTEL_RESOURCE_ATTRIBUTES and OTEL_SERVICE_NAME from the environment, as every SDK reads them;
  // the service name from config wins so it can be set like any other setting.
  const resource = detectResources({ detectors: [envDetector] }).merge(resourceFromAttributes({ "service.name": config.OTEL_SERVICE_NAME }));
  const out = await exporters(config);
  const tracerProvider = new BasicTracerProvider({ resource, spanProcessors: [new BatchSpanProcessor(out.spans)] });
  const meterProvider = new MeterProvider({
    resource,
    readers: [new PeriodicExportingMetricReader({ exporter: out.metrics, exportIntervalMillis: config.OTEL_METRIC_EXPORT_INTERVAL })],
  });
  const tracer = tracerProvider.getTracer("tollbooth");
  const meter = meterProvider.getMeter("tollbooth");
  const instruments = {
    tokens: meter.createHistogram("gen_ai.client.token.usage", {
      unit: "{token}",
      description: "Number of input and output tokens used",
      advice: { explicitBucketBoundaries: TOKEN_BUCKETS },
    }),
    duration: meter.createHistogram("gen_ai.client.operation.duration", {
      unit: "s",
      description: "GenAI operation duration",
      advice: { explicitBucketBoundaries: DURATION_BUCKETS },
    }),
  };
  const upstream = new URL(config.UPSTREAM_BASE_URL);
  const server = { address: upstream.hostname, port: Number(upstream.port || (upstream.protocol === "https:" ? 443 : 80)) };
  // Model names come from callers: bounded here as on /metrics.
  const models = new LabelCap(config.METRICS_MAX_LABEL_VALUES);
  const propagator = new W3CTraceContextPropagator();
  const shared = { tracer, propagator, instruments, server, models, capture: config.OTEL_CAPTURE_CONTENT, capBytes: config.BODY_CAP_BYTES };
  return {
    start: (headers) => new OtelCallSpan(shared, headers),
    async shutdown() {
      await Promise.all([tracerProvider.shutdown(), meterProvider.shutdown()]);
    },
  };
}

interface Shared {
  tracer: ReturnType<BasicTracerProvider["getTracer"]>;
  propagator: W3CTraceContextPropagator;
  instruments: { tokens: Histogram; duration: Histogram };
  server: { address: string; port: number };
  models: LabelCap;
  capture: boolean;
  capBytes: number;
}

class OtelCallSpan implements CallSpan {
  private readonly span: ReturnType<Shared["tracer"]["startSpan"]>;
  private readonly started = performance.now();
  private inputMessages: unknown = undefined;

  constructor(
    private readonly shared: Shared,
    headers: IncomingHttpHeaders,
  ) {
    // A caller's traceparent makes this span its child; without one it starts a trace.
    const parent = shared.propagator.extract(ROOT_CONTEXT, headers, defaultTextMapGetter);
    this.span = shared.tracer.startSpan(
      "gen_ai",
      { kind: SpanKind.CLIENT, attributes: { "gen_ai.provider.name": PROVIDER, "server.address": shared.server.address, "server.port": shared.server.port } },
      parent,
    );
  }

  inject(upstreamHeaders: Record<string, string | string[]>): void {
    // The caller's own traceparent/tracestate are replaced: upstream's parent is this span.
    delete upstreamHeaders.traceparent;
    delete upstreamHeaders.tracestate;
    this.shared.propagator.inject(trace.setSpan(ROOT_CONTEXT, this.span), upstreamHeaders, defaultTextMapSetter);
  }

  request(json: Record<string, unknown> | null): void {
    if (!json) return;
    const maxTokens = json.max_tokens ?? json.max_completion_tokens;
    if (typeof maxTokens === "number") this.span.setAttribute("gen_ai.request.max_tokens", maxTokens);
    for (const [field, attribute] of [
      ["temperature", "gen_ai.request.temperature"],
      ["top_p", "gen_ai.request.top_p"],
    ] as const) {
      const v = json[field];
      if (typeof v === "number") this.span.setAttribute(attribute, v);
    }
    if (this.shared.capture) this.inputMessages = json.messages ?? json.prompt ?? json.input;
  }

  end(row: CallRecord["call"], response: CallResponseFacts): void {
    const operation = operationOf(row.endpoint);
    const failed = row.status >= 400 || !!row.errorType;
    const errorType = failed ? (row.errorType ?? String(row.status)) : null;
    const attrs: Attributes = { "gen_ai.operation.name": operation, "http.response.status_code": row.status, "tollbooth.request_id": row.requestId };
    if (row.model) attrs["gen_ai.request.model"] = row.model;
    if (response.model) attrs["gen_ai.response.model"] = response.model;
    if (row.upstreamRequestId) attrs["gen_ai.response.id"] = row.upstreamRequestId;
    if (row.promptTokens !== null && row.promptTokens !== undefined) attrs["gen_ai.usage.input_tokens"] = row.promptTokens;
    if (row.completionTokens !== null && row.completionTokens !== undefined) attrs["gen_ai.usage.output_tokens"] = row.completionTokens;
    if (errorType) attrs["error.type"] = errorType;
    if (this.shared.capture) this.captureContent(attrs, response);
    this.span.setAttributes(attrs);
    this.span.updateName(row.model ? `${operation} ${row.model}` : operation);
    if (failed) this.span.setStatus({ code: SpanStatusCode.ERROR, message: row.errorMessage ?? undefined });
    this.span.end();

    const metricAttrs: Attributes = {
      "gen_ai.operation.name": operation,
      "gen_ai.provider.name": PROVIDER,
      "server.address": this.shared.server.address,
      "server.port": this.shared.server.port,
    };
    if (row.model) metricAttrs["gen_ai.request.model"] = this.shared.models.value(row.model);
    if (response.model) metricAttrs["gen_ai.response.model"] = this.shared.models.value(response.model);
    const { tokens, duration } = this.shared.instruments;
    if (errorType) duration.record((performance.now() - this.started) / 1000, { ...metricAttrs, "error.type": errorType });
    else duration.record((performance.now() - this.started) / 1000, metricAttrs);
    if (row.promptTokens) tokens.record(row.promptTokens, { ...metricAttrs, "gen_ai.token.type": "input" });
    if (row.completionTokens) tokens.record(row.completionTokens, { ...metricAttrs, "gen_ai.token.type": "output" });
  }

  /** Prompt and completion, only with OTEL_CAPTURE_CONTENT=true: scrubbed and capped like stored bodies. */
  private captureContent(attrs: Attributes, response: CallResponseFacts): void {
    const keep = (value: unknown) => capBody(scrubSecrets(JSON.stringify(value), response.secrets), this.shared.capBytes).text;
    if (this.inputMessages !== undefined) attrs["gen_ai.input.messages"] = keep(this.inputMessages);
    const text = response.outputText?.();
    if (text) attrs["gen_ai.output.messages"] = keep([{ role: "assistant", parts: [{ type: "text", content: text }] }]);
  }
}
