import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import protobuf from "protobufjs";

// A real OTLP/HTTP receiver for tests: it accepts what an OpenTelemetry exporter POSTs to
// /v1/traces and /v1/metrics, in http/json or http/protobuf, and decodes both into one shape.
// The protobuf messages are the parts of opentelemetry-proto (v1) the tests read, with the
// upstream field numbers; fields not declared here are skipped by the decoder.
const OTLP_PROTO = `
syntax = "proto3";
package otlp;
message AnyValue {
  oneof value {
    string string_value = 1;
    bool bool_value = 2;
    int64 int_value = 3;
    double double_value = 4;
    ArrayValue array_value = 5;
    KeyValueList kvlist_value = 6;
    bytes bytes_value = 7;
  }
}
message ArrayValue { repeated AnyValue values = 1; }
message KeyValueList { repeated KeyValue values = 1; }
message KeyValue { string key = 1; AnyValue value = 2; }
message Resource { repeated KeyValue attributes = 1; }
message InstrumentationScope { string name = 1; string version = 2; }
message Status { string message = 2; int32 code = 3; }
message Span {
  bytes trace_id = 1;
  bytes span_id = 2;
  string trace_state = 3;
  bytes parent_span_id = 4;
  string name = 5;
  int32 kind = 6;
  fixed64 start_time_unix_nano = 7;
  fixed64 end_time_unix_nano = 8;
  repeated KeyValue attributes = 9;
  Status status = 15;
}
message ScopeSpans { InstrumentationScope scope = 1; repeated Span spans = 2; }
message ResourceSpans { Resource resource = 1; repeated ScopeSpans scope_spans = 2; }
message ExportTraceServiceRequest { repeated ResourceSpans resource_spans = 1; }
message HistogramDataPoint {
  fixed64 start_time_unix_nano = 2;
  fixed64 time_unix_nano = 3;
  fixed64 count = 4;
  double sum = 5;
  repeated fixed64 bucket_counts = 6;
  repeated double explicit_bounds = 7;
  repeated KeyValue attributes = 9;
}
message Histogram { repeated HistogramDataPoint data_points = 1; int32 aggregation_temporality = 2; }
message Metric { string name = 1; string description = 2; string unit = 3; Histogram histogram = 9; }
message ScopeMetrics { InstrumentationScope scope = 1; repeated Metric metrics = 2; }
message ResourceMetrics { Resource resource = 1; repeated ScopeMetrics scope_metrics = 2; }
message ExportMetricsServiceRequest { repeated ResourceMetrics resource_metrics = 1; }
`;
const root = protobuf.parse(OTLP_PROTO).root;
const TraceRequest = root.lookupType("otlp.ExportTraceServiceRequest");
const MetricsRequest = root.lookupType("otlp.ExportMetricsServiceRequest");

type Value = string | number | boolean;

interface ReceivedSpan {
  traceId: string;
  spanId: string;
  parentSpanId: string;
  name: string;
  kind: number;
  attributes: Record<string, Value>;
  status: { code: number; message?: string };
  resource: Record<string, Value>;
}

interface ReceivedPoint {
  attributes: Record<string, Value>;
  count: number;
  sum: number;
}

interface ReceivedMetric {
  name: string;
  unit: string;
  points: ReceivedPoint[];
}

export interface OtlpReceiver {
  url: string;
  /** Content types of the export requests received, e.g. "application/x-protobuf". */
  contentTypes: Set<string>;
  spans: ReceivedSpan[];
  metrics: ReceivedMetric[];
  close(): Promise<void>;
}

// Both encodings decoded to plain objects: camelCase names (protobufjs converts them, OTLP/JSON
// uses them), 64-bit integers as strings, ids as hex (OTLP/JSON writes them so).
// biome-ignore lint/suspicious/noExplicitAny: decoded OTLP documents are untyped trees
type Tree = any;

function attributes(list: Tree[] | undefined): Record<string, Value> {
  const out: Record<string, Value> = {};
  for (const kv of list ?? []) {
    const v = kv.value ?? {};
    if (v.stringValue !== undefined) out[kv.key] = v.stringValue;
    else if (v.intValue !== undefined) out[kv.key] = Number(v.intValue);
    else if (v.doubleValue !== undefined) out[kv.key] = Number(v.doubleValue);
    else if (v.boolValue !== undefined) out[kv.key] = v.boolValue;
  }
  return out;
}

const hex = (v: unknown) => (v instanceof Uint8Array || Array.isArray(v) ? Buffer.from(v as Uint8Array).toString("hex") : String(v ?? ""));

function decode(path: string, contentType: string, body: Buffer): Tree {
  if (contentType.includes("json")) return JSON.parse(body.toString("utf8"));
  const type = path === "/v1/traces" ? TraceRequest : MetricsRequest;
  return type.toObject(type.decode(body), { longs: String, bytes: Array, defaults: false });
}

export async function startOtlpReceiver(): Promise<OtlpReceiver> {
  const receiver: Omit<OtlpReceiver, "url" | "close"> = { contentTypes: new Set(), spans: [], metrics: [] };
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const parts: Buffer[] = [];
    req.on("data", (c: Buffer) => parts.push(c));
    req.on("end", () => {
      const contentType = req.headers["content-type"] ?? "";
      receiver.contentTypes.add(contentType);
      const doc = decode(req.url ?? "", contentType, Buffer.concat(parts));
      if (req.url === "/v1/traces") {
        for (const rs of doc.resourceSpans ?? [])
          for (const ss of rs.scopeSpans ?? [])
            for (const s of ss.spans ?? [])
              receiver.spans.push({
                traceId: hex(s.traceId),
                spanId: hex(s.spanId),
                parentSpanId: hex(s.parentSpanId),
                name: s.name,
                kind: Number(s.kind),
                attributes: attributes(s.attributes),
                status: { code: Number(s.status?.code ?? 0), message: s.status?.message },
                resource: attributes(rs.resource?.attributes),
              });
      } else if (req.url === "/v1/metrics") {
        for (const rm of doc.resourceMetrics ?? [])
          for (const sm of rm.scopeMetrics ?? [])
            for (const m of sm.metrics ?? [])
              receiver.metrics.push({
                name: m.name,
                unit: m.unit,
                points: (m.histogram?.dataPoints ?? []).map((p: Tree) => ({ attributes: attributes(p.attributes), count: Number(p.count), sum: Number(p.sum) })),
              });
      }
      // An empty ExportServiceResponse: a zero-length protobuf message, or {} in JSON.
      res.writeHead(200, { "content-type": contentType.includes("json") ? "application/json" : "application/x-protobuf" });
      res.end(contentType.includes("json") ? "{}" : "");
    });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const { port } = server.address() as AddressInfo;
  return { ...receiver, url: `http://127.0.0.1:${port}`, close: () => new Promise((r) => server.close(() => r())) };
}
