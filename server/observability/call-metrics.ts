import { Gauge, Registry } from "prom-client";
import type { CallRecord } from "../recorder/recorder.ts";
import { LabelCap, statusClass } from "./label-cap.ts";
import { type CounterCell, CounterFamily, type HistogramCell, HistogramFamily } from "./plain-series.ts";

// The serving thread's own Prometheus figures: every call is counted here as it finishes (this is
// the thread that sees each call), plus the recorder's queue as this thread knows it. Figures
// only the writer thread knows are added to the scrape from there (writer-metrics.ts).
//
// Counting runs on every /v1 call, on the thread that serves them, so it is plain arithmetic on
// cells found through two map lookups by the (capped) model and team; the text is built only when
// /metrics is scraped (plain-series.ts).

const DURATION_BUCKETS = [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120];
const TTFT_BUCKETS = [0.025, 0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30];

/** A model and team's cells. Token and ttft series start at their first count, as in prom-client. */
interface PairSeries {
  readonly model: string;
  readonly team: string;
  input: CounterCell | null;
  output: CounterCell | null;
  ttft: HistogramCell | null;
  /** Indexed by status / 100 (2 for 2xx). */
  readonly byClass: Array<ClassSeries | undefined>;
}

/** A model, team and status class's cells. */
interface ClassSeries {
  readonly status: string;
  readonly duration: HistogramCell;
  /** Request counters by error type ("" when the call succeeded). */
  readonly requests: Map<string, CounterCell>;
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
  /** The gauges, read from the recorder at each scrape. */
  private readonly registry = new Registry();
  private readonly requests = new CounterFamily(
    "tollbooth_requests_total",
    "Calls through /v1 by model, team, status class and error type (empty when the call succeeded)",
    ["model", "team", "status", "error_type"],
  );
  private readonly tokens = new CounterFamily(
    "tollbooth_tokens_total",
    "Tokens of calls through /v1 (type input or output; reported by upstream or estimated)",
    ["model", "team", "type"],
  );
  private readonly duration = new HistogramFamily(
    "tollbooth_request_duration_seconds",
    "Time from a call's arrival to its last byte",
    ["model", "team", "status"],
    DURATION_BUCKETS,
  );
  private readonly ttft = new HistogramFamily(
    "tollbooth_time_to_first_token_seconds",
    "Time from a streamed call's arrival to its first content token",
    ["model", "team"],
    TTFT_BUCKETS,
  );
  private readonly models: LabelCap;
  private readonly teams: LabelCap;
  private readonly errorTypes: LabelCap;
  /** Model label, then team label. */
  private readonly pairs = new Map<string, Map<string, PairSeries>>();

  constructor(maxLabelValues: number, recorder: RecorderFigures) {
    const registers = [this.registry];
    this.models = new LabelCap(maxLabelValues);
    this.teams = new LabelCap(maxLabelValues);
    this.errorTypes = new LabelCap(maxLabelValues);
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

  get contentType(): string {
    return this.registry.contentType;
  }

  /** A finished call's row, as handed to the recorder. */
  observe(row: CallRecord["call"]): void {
    const pair = this.pair(this.models.value(row.model), this.teams.value(row.team));
    const index = Math.floor(row.status / 100);
    const byClass = pair.byClass[index] ?? this.startClass(pair, index, row.status);
    const errorType = row.errorType ? this.errorTypes.value(row.errorType) : "";
    const requests = byClass.requests.get(errorType) ?? this.startRequests(pair, byClass, errorType);
    requests.value++;
    // Zero or absent counts add nothing and, as with prom-client, start no series.
    if (row.promptTokens && row.promptTokens > 0) (pair.input ??= this.tokens.add([pair.model, pair.team, "input"])).value += row.promptTokens;
    if (row.completionTokens && row.completionTokens > 0) (pair.output ??= this.tokens.add([pair.model, pair.team, "output"])).value += row.completionTokens;
    byClass.duration.observe(row.durationMs / 1000);
    if (row.ttftMs !== null && row.ttftMs !== undefined) (pair.ttft ??= this.ttft.add([pair.model, pair.team])).observe(row.ttftMs / 1000);
  }

  /** The exposition text of every family, in the order prom-client's registry gave them. */
  async text(): Promise<string> {
    const gauges = await this.registry.metrics();
    return `${[this.requests, this.tokens, this.duration, this.ttft].map((f) => f.text()).join("\n\n")}\n\n${gauges}`;
  }

  private pair(model: string, team: string): PairSeries {
    let byTeam = this.pairs.get(model);
    if (!byTeam) {
      byTeam = new Map();
      this.pairs.set(model, byTeam);
    }
    let pair = byTeam.get(team);
    if (!pair) {
      pair = { model, team, input: null, output: null, ttft: null, byClass: [] };
      byTeam.set(team, pair);
    }
    return pair;
  }

  private startClass(pair: PairSeries, index: number, status: number): ClassSeries {
    const label = statusClass(status);
    const series = { status: label, duration: this.duration.add([pair.model, pair.team, label]), requests: new Map<string, CounterCell>() };
    pair.byClass[index] = series;
    return series;
  }

  private startRequests(pair: PairSeries, byClass: ClassSeries, errorType: string): CounterCell {
    const cell = this.requests.add([pair.model, pair.team, byClass.status, errorType]);
    byClass.requests.set(errorType, cell);
    return cell;
  }
}
