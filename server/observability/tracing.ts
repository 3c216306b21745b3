import type { IncomingHttpHeaders } from "node:http";
import type { Config } from "../config.ts";
import type { CallRecord } from "../recorder/recorder.ts";

/** One call's span, from its arrival to its row. */
export interface CallSpan {
  /** Put this span's traceparent (and tracestate) on the upstream request, as its parent. */
  inject(upstreamHeaders: Record<string, string | string[]>): void;
  /** The request about to go upstream (model, max_tokens, and its messages when captured). */
  request(json: Record<string, unknown> | null): void;
  /** The call's row is final: attributes, status, end. */
  end(row: CallRecord["call"], response: CallResponseFacts): void;
}

/** What the span needs from the answer beyond the row. */
export interface CallResponseFacts {
  model: string | null;
  /** The completion text, asked for only when content capture is on. */
  outputText: (() => string) | null;
  /** The caller's credentials in every form: scrubbed from captured content. */
  secrets: readonly string[];
}

export interface CallTracing {
  start(headers: IncomingHttpHeaders): CallSpan;
  /** Export what is still batched, then stop. */
  shutdown(): Promise<void>;
}

/**
 * The OpenTelemetry SDK is imported only when an OTLP endpoint is configured, so without one it
 * is never loaded: no module, no timers, no per-call span objects.
 */
export async function startTracing(config: Config): Promise<CallTracing | null> {
  if (!config.OTEL_EXPORTER_OTLP_ENDPOINT) return null;
  const { startOtel } = await import("./otel.ts");
  return startOtel(config);
}
