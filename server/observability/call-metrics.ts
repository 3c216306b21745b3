import { Counter, Gauge, Histogram, Registry } from "prom-client";
import type { CallRecord } from "../recorder/recorder.ts";
import { LabelCap, statusClass } from "./label-cap.ts";

// The serving thread's own Prometheus figures: every call is counted here as it finishes (this is
// the thread that sees each call), plus the recorder's queue as this thread knows it. Figures
// only the writer thread knows are added to the scrape from there (writer-metrics.ts).

const DURATION_BUCKETS = [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120];
const TTFT_BUCKETS = [0.025, 0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30];

/** The children of one label combination, looked up once per combination, not per call. */
interface Series {
  requests: { inc(): void };
  inputTokens: { inc(n: number): void };
  outputTokens: { inc(n: number): void };
  duration: { observe(s: number): void };
  ttft: { observe(s: number): void };
}

export interface RecorderFigures {
  /** Rows journaled, not yet committed to the database. */
  readonly queued: number;
  /** Calls started, row not yet handed over. */
  readonly inFlight: number;
  /** Rows no longer recordable anywhere (see Journal.unjournaled and the writer's state). */
  readonly lost: number;
}

export class CallMetrics {
  readonly registry = new Registry();
  private readonly requests: Counter<"model" | "team" | "status" | "error_type">;
  private readonly tokens: Counter<"model" | "team" | "type">;
  private readonly duration: Histogram<"model" | "team" | "status">;
  private readonly ttft: Histogram<"model" | "team">;
  private readonly models: LabelCap;
  private readonly teams: LabelCap;
  private readonly errorTypes: LabelCap;
  private readonly series = new Map<string, Series>();

  constructor(maxLabelValues: number, recorder: RecorderFigures) {
    const registers = [this.registry];
    this.models = new LabelCap(maxLabelValues);
    this.teams = new LabelCap(maxLabelValues);
    this.errorTypes = new LabelCap(maxLabelValues);
    this.requests = new Counter({
      name: "tollbooth_requests_total",
      help: "Calls through /v1 by model, team, status class and error type (empty when the call succeeded)",
      labelNames: ["model", "team", "status", "error_type"],
      registers,
    });
    this.tokens = new Counter({
      name: "tollbooth_tokens_total",
      help: "Tokens of calls through /v1 (type input or output; reported by upstream or estimated)",
      labelNames: ["model", "team", "type"],
      registers,
    });
    this.duration = new Histogram({
      name: "tollbooth_request_duration_seconds",
      help: "Time from a call's arrival to its last byte",
      labelNames: ["model", "team", "status"],
      buckets: DURATION_BUCKETS,
      registers,
    });
    this.ttft = new Histogram({
      name: "tollbooth_time_to_first_token_seconds",
      help: "Time from a streamed call's arrival to its first content token",
      labelNames: ["model", "team"],
      buckets: TTFT_BUCKETS,
      registers,
    });
    new Gauge({
      name: "tollbooth_recorder_queue_rows",
      help: "Call rows journaled but not yet committed to the database",
      registers,
      collect() {
        this.set(recorder.queued);
      },
    });
    new Gauge({
      name: "tollbooth_calls_in_flight",
      help: "Calls that have arrived and not finished",
      registers,
      collect() {
        this.set(recorder.inFlight);
      },
    });
    new Gauge({
      name: "tollbooth_recorder_rows_lost",
      help: "Call rows that can no longer be recorded: neither committed nor kept in the journal, with the writer thread gone (0 unless both the journal and the writer failed)",
      registers,
      collect() {
        this.set(recorder.lost);
      },
    });
  }

  /** A finished call's row, as handed to the recorder. */
  observe(row: CallRecord["call"]): void {
    const model = this.models.value(row.model);
    const team = this.teams.value(row.team);
    const status = statusClass(row.status);
    const errorType = row.errorType ? this.errorTypes.value(row.errorType) : "";
    const key = `${model}\u0000${team}\u0000${status}\u0000${errorType}`;
    let s = this.series.get(key);
    if (!s) {
      s = {
        requests: this.requests.labels(model, team, status, errorType),
        inputTokens: this.tokens.labels(model, team, "input"),
        outputTokens: this.tokens.labels(model, team, "output"),
        duration: this.duration.labels(model, team, status),
        ttft: this.ttft.labels(model, team),
      };
      this.series.set(key, s);
    }
    s.requests.inc();
    if (row.promptTokens) s.inputTokens.inc(row.promptTokens);
    if (row.completionTokens) s.outputTokens.inc(row.completionTokens);
    s.duration.observe(row.durationMs / 1000);
    if (row.ttftMs !== null && row.ttftMs !== undefined) s.ttft.observe(row.ttftMs / 1000);
  }
}
