import type { IncomingHttpHeaders } from "node:http";
import type { Logger } from "../log.ts";
import type { CallRecord } from "../recorder/recorder.ts";
import type { CallMetrics } from "./call-metrics.ts";
import type { CallSpan, CallTracing } from "./tracing.ts";

/**
 * What the proxy tells about each call beyond its row: the Prometheus counters, the OTel span
 * and the debug log line. Each part is null or false when it is off, so a call pays only for
 * what is configured (see the gateway benchmark's metrics and tracing rows). The span is ended
 * by the call's tracker, which alone knows the facts it needs beyond the row.
 */
export class CallTelemetry {
  /** Read once: the level is fixed for the life of the logger, and the line's fields cost per call. */
  private readonly logCalls: boolean;

  constructor(
    private readonly metrics: CallMetrics | null,
    private readonly tracing: CallTracing | null,
    private readonly log: Logger,
  ) {
    this.logCalls = log.enabled("debug");
  }

  /** The call arrived: its span (null without OTel), a child of the caller's traceparent. */
  begin(headers: IncomingHttpHeaders): CallSpan | null {
    return this.tracing ? this.tracing.start(headers) : null;
  }

  finished(row: CallRecord["call"]): void {
    this.metrics?.observe(row);
    if (!this.logCalls) return;
    this.log.debug("call", {
      requestId: row.requestId,
      endpoint: row.endpoint,
      model: row.model,
      team: row.team,
      status: row.status,
      errorType: row.errorType,
      promptTokens: row.promptTokens,
      completionTokens: row.completionTokens,
      durationMs: row.durationMs,
      ttftMs: row.ttftMs,
      upstreamRequestId: row.upstreamRequestId,
    });
  }
}
