import type { IncomingHttpHeaders } from "node:http";
import type { Logger } from "../log.ts";
import type { CallRecord } from "../recorder/recorder.ts";
import type { CallMetrics } from "./call-metrics.ts";
import type { CallResponseFacts, CallSpan, CallTracing } from "./tracing.ts";

/**
 * What the proxy tells about each call beyond its row: the Prometheus counters, the OTel span
 * and the debug log line. Each part is null or a level check when it is off, so a call pays only
 * for what is configured (see the gateway benchmark's metrics and tracing rows).
 */
export class CallTelemetry {
  constructor(
    private readonly metrics: CallMetrics | null,
    private readonly tracing: CallTracing | null,
    private readonly log: Logger,
  ) {}

  /** The call arrived: its span (null without OTel), a child of the caller's traceparent. */
  begin(headers: IncomingHttpHeaders): CallSpan | null {
    return this.tracing ? this.tracing.start(headers) : null;
  }

  finished(row: CallRecord["call"], span: CallSpan | null, response: CallResponseFacts): void {
    this.metrics?.observe(row);
    span?.end(row, response);
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
