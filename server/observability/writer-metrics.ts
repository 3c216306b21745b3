import { Counter, Gauge, Histogram, Registry } from "prom-client";
import type { NewCall } from "../db/schema.ts";
import { LabelCap, statusClass } from "./label-cap.ts";
import type { BudgetFigure, SpendFigure } from "./database-figures.ts";

// The writer thread's Prometheus figures: what only it knows (batch commits, spilled and replayed
// rows, cost, which it prices, the jobs it runs) and what it reads from the database. The serving
// thread asks for their text at each scrape and appends it to its own (metric names differ).

const FLUSH_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5];

export interface JobRunReport {
  job: string;
  ok: boolean;
  /** Epoch ms. */
  startedAt: number;
  durationMs: number;
}

export interface WriterSources {
  maxLabelValues: number;
  /** The live recorder's counts: rows that waited through a failed write, rows held in memory, rows past the memory cap. */
  recorder: () => { spilled: number; pending: number; journalOnly: number };
  rollupLagSeconds: () => Promise<number>;
  spend: () => Promise<SpendFigure[]>;
  budgets: () => Promise<BudgetFigure[]>;
}

/** nano-USD per USD. Cost is summed in integer nano-USD and divided only when exposed. */
const NANO = 1e9;

export class WriterMetrics {
  readonly registry = new Registry();
  private readonly flush: Histogram;
  private readonly replayed: Counter;
  private readonly jobRuns: Counter<"job" | "result">;
  private readonly lastRun = new Map<string, JobRunReport>();
  private readonly models: LabelCap;
  private readonly teams: LabelCap;
  /** Cost by series key, committed rows only. */
  private readonly cost = new Map<string, { model: string; team: string; status: string; nano: number }>();

  constructor(sources: WriterSources) {
    const registers = [this.registry];
    this.models = new LabelCap(sources.maxLabelValues);
    this.teams = new LabelCap(sources.maxLabelValues);
    this.flush = new Histogram({
      name: "tollbooth_recorder_flush_duration_seconds",
      help: "Time to commit one batch of call rows (one write transaction)",
      buckets: FLUSH_BUCKETS,
      registers,
    });
    new Counter({
      name: "tollbooth_recorder_spilled_rows_total",
      help: "Call rows that waited in the journal through at least one failed database write before they committed",
      registers,
      collect() {
        this.reset();
        this.inc(sources.recorder().spilled);
      },
    });
    new Gauge({
      name: "tollbooth_recorder_memory_rows",
      help: "Call rows the writer holds in memory, queued or being written (at most RECORDER_MEMORY_MAX_ROWS)",
      registers,
      collect() {
        this.set(sources.recorder().pending);
      },
    });
    new Gauge({
      name: "tollbooth_recorder_journal_only_rows",
      help: "Call rows past RECORDER_MEMORY_MAX_ROWS that wait in the journal only, read back as the database takes them",
      registers,
      collect() {
        this.set(sources.recorder().journalOnly);
      },
    });
    this.replayed = new Counter({
      name: "tollbooth_recorder_replayed_rows_total",
      help: "Call rows recovered from the journals of earlier processes and committed by this one",
      registers,
    });
    const cost = this.cost;
    new Counter({
      name: "tollbooth_cost_usd_total",
      help: "Cost in USD of the calls this instance recorded, by model, team and status class (priced calls only)",
      labelNames: ["model", "team", "status"],
      registers,
      collect() {
        this.reset();
        for (const c of cost.values()) this.inc({ model: c.model, team: c.team, status: c.status }, c.nano / NANO);
      },
    });
    new Gauge({
      name: "tollbooth_rollup_lag_seconds",
      help: "Age of the oldest call not yet aggregated into the spend rollups (0 when caught up)",
      registers,
      async collect() {
        // A database busy past its timeout keeps the last value rather than failing the scrape.
        const lag = await attempt(sources.rollupLagSeconds);
        if (lag !== null) this.set(lag);
      },
    });
    this.jobRuns = new Counter({ name: "tollbooth_job_runs_total", help: "Job runs by this process's scheduler, by result", labelNames: ["job", "result"], registers });
    const lastRun = this.lastRun;
    const perJob = (name: string, help: string, value: (r: JobRunReport) => number) =>
      new Gauge({
        name,
        help,
        labelNames: ["job"],
        registers,
        collect() {
          this.reset();
          for (const r of lastRun.values()) this.set({ job: r.job }, value(r));
        },
      });
    perJob("tollbooth_job_last_run_timestamp_seconds", "When this process last started the job (Unix time)", (r) => r.startedAt / 1000);
    perJob("tollbooth_job_last_run_success", "1 if the job's last run in this process succeeded, else 0", (r) => (r.ok ? 1 : 0));
    perJob("tollbooth_job_last_run_duration_seconds", "How long the job's last run in this process took", (r) => r.durationMs / 1000);
    new Gauge({
      // tollbooth_db_*: read from the shared database, so every instance reports the same value.
      // The prefix keeps them apart from the per-instance counters a sum() across instances adds.
      name: "tollbooth_db_spend_usd",
      help: "Spend so far this day or month (REPORT_TZ) by team and model, from the database: identical on every instance, aggregate with max(), never sum()",
      labelNames: ["period", "team", "model"],
      registers,
      async collect() {
        const spend = await attempt(sources.spend);
        if (spend === null) return;
        this.reset();
        for (const s of spend) this.set({ period: s.period, team: s.team, model: s.model }, Number(s.costNano) / NANO);
      },
    });
    // Budgets: spent this period and the amount, so budget used = spent / amount in PromQL.
    const budgetGauge = (name: string, help: string, value: (b: BudgetFigure) => bigint) =>
      new Gauge({
        name,
        help,
        labelNames: ["budget", "scope"],
        registers,
        async collect() {
          const figures = await attempt(sources.budgets);
          if (figures === null) return;
          this.reset();
          for (const b of figures) this.set({ budget: b.budget, scope: b.scope }, Number(value(b)) / NANO);
        },
      });
    budgetGauge("tollbooth_db_budget_spent_usd", "Spend against each budget in its current period, from the database: identical on every instance, aggregate with max()", (b) => b.spentNano);
    budgetGauge("tollbooth_db_budget_amount_usd", "Each budget's amount for its period (USD), from the database", (b) => b.amountNano);
  }

  /** A batch committed: the cost of the rows it priced counts now (a failed attempt's never does), and its commit time. */
  batchCommitted(ms: number, priced: ReadonlyArray<{ call: Omit<NewCall, "id">; nano: number }>): void {
    this.flush.observe(ms / 1000);
    for (const { call, nano } of priced) {
      const model = this.models.value(call.model);
      const team = this.teams.value(call.team);
      const status = statusClass(call.status);
      const key = `${model}\u0000${team}\u0000${status}`;
      const entry = this.cost.get(key);
      // A JS number holds integer nano-USD exactly up to ~9 million USD per series.
      if (entry) entry.nano += nano;
      else this.cost.set(key, { model, team, status, nano });
    }
  }

  replayedRows(n: number): void {
    this.replayed.inc(n);
  }

  jobRan(report: JobRunReport): void {
    this.lastRun.set(report.job, report);
    this.jobRuns.inc({ job: report.job, result: report.ok ? "success" : "failure" });
  }

  text(): Promise<string> {
    return this.registry.metrics();
  }
}

async function attempt<T>(read: () => Promise<T>): Promise<T | null> {
  try {
    return await read();
  } catch {
    return null;
  }
}
