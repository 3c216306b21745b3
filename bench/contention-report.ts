import type { LoopRecord } from "./http-loop-child.ts";
import type { ThroughputResult } from "./load.ts";
import { percentile } from "./stats.ts";
import { fmt, verdict, type Row } from "./table.ts";

// The contention benchmark's figures and table rows: the proxied load of each phase against the
// quiet one, the dashboard's and /healthz's own answers, and the rollup runs.

const TARGET_THROUGHPUT_RATIO = 0.5;
const TARGET_P99_ADDED_MS = 5;
export const TARGET_HEALTHZ_MS = 100;

/** One proxied call: start (epoch ms), latency, answered 200 with a complete body. */
export interface Sample {
  at: number;
  ms: number;
  ok: boolean;
}

export interface LoadFigures {
  rps: number;
  completed: number;
  failed: number;
  p50: number;
  p99: number;
  max: number;
  /** Longest time in the phase during which no proxied call completed. */
  stallMs: number;
}

export function loadFigures(result: ThroughputResult, samples: readonly Sample[]): LoadFigures {
  // Latencies include failed calls: a keep-alive connection reset after the server's thread was
  // blocked for seconds is a call that waited that long, then got nothing.
  const latencies = samples.map((s) => s.ms);
  const ends = samples.filter((s) => s.ok).map((s) => s.at + s.ms).sort((a, b) => a - b);
  // The phase runs from the first request's start to the last answer's end.
  const from = Math.min(...samples.map((s) => s.at));
  const to = Math.max(...samples.map((s) => s.at + s.ms));
  let stall = 0;
  let previous = from;
  for (const end of [...ends, to]) {
    stall = Math.max(stall, end - previous);
    previous = end;
  }
  return {
    rps: result.rps,
    completed: result.completed,
    failed: result.failed,
    p50: percentile(latencies, 50),
    p99: percentile(latencies, 99),
    max: latencies.length ? Math.max(...latencies) : NaN,
    stallMs: samples.length ? stall : NaN,
  };
}

/** A latency for the table: ms with decimals below a second, seconds above. */
const ms = (x: number) => (!Number.isFinite(x) ? "—" : x >= 1000 ? `${(x / 1000).toFixed(2)} s` : x >= 100 ? `${x.toFixed(0)} ms` : `${x.toFixed(1)} ms`);
const rate = (x: number) => fmt.rate(x, "req/s");
const added = (x: number) => `${x >= 0 ? "+" : "−"}${ms(Math.abs(x))}`;
const info = (metric: string, quiet: string, contention: string, delta: string): Row => ({ metric, direct: quiet, tollbooth: contention, delta, target: "—", result: "—" });

export function dashboardPhaseRows(quiet: LoadFigures, busy: LoadFigures, connections: number): Row[] {
  const ratio = busy.rps / quiet.rps;
  const p99Added = busy.p99 - quiet.p99;
  const what = `${connections} conns, dashboard + rollup`;
  return [
    {
      metric: `proxied throughput, ${what}`,
      direct: rate(quiet.rps),
      tollbooth: rate(busy.rps),
      delta: fmt.ratio(ratio),
      target: `≥ ${TARGET_THROUGHPUT_RATIO}×`,
      result: verdict(ratio >= TARGET_THROUGHPUT_RATIO),
    },
    {
      metric: `proxied p99, ${what}`,
      direct: ms(quiet.p99),
      tollbooth: ms(busy.p99),
      delta: added(p99Added),
      target: `≤ +${TARGET_P99_ADDED_MS} ms`,
      result: verdict(p99Added <= TARGET_P99_ADDED_MS),
    },
    info(`proxied p50, ${what}`, ms(quiet.p50), ms(busy.p50), added(busy.p50 - quiet.p50)),
    info(`proxied max, ${what}`, ms(quiet.max), ms(busy.max), added(busy.max - quiet.max)),
    info(`longest time without a proxied answer, ${what}`, ms(quiet.stallMs), ms(busy.stallMs), added(busy.stallMs - quiet.stallMs)),
  ];
}

/** One row per dashboard request: how long the dashboard user waited while the proxy was busy. */
export function dashboardRows(records: readonly LoopRecord[], labels: readonly string[]): Row[] {
  return labels.map((label) => {
    const mine = records.filter((r) => r.label === label);
    const answered = mine.filter((r) => r.status === 200).map((r) => r.ms);
    const bad = mine.length - answered.length;
    const firstBad = mine.find((r) => r.status !== 200);
    const figures = answered.length ? `p50 ${ms(percentile(answered, 50))}, max ${ms(Math.max(...answered))}` : "no answer";
    const count = `${answered.length} answered${bad ? `, ${bad} not 200 (${firstBad!.status || firstBad!.error})` : ""}`;
    return info(`dashboard: ${label}`, "—", figures, count);
  });
}

/** A run of the server's rollup, as GET /api/jobs reports it. */
export interface JobRunJson {
  job: string;
  started_at: string;
  duration_ms: number | null;
  rows: number | null;
  status: string;
}

/** The runs that started in [phaseStart, phaseEnd] (epoch ms). */
export function runsDuring(runs: readonly JobRunJson[], phaseStart: number, phaseEnd: number): JobRunJson[] {
  return runs.filter((r) => {
    const t = Date.parse(r.started_at);
    return t >= phaseStart && t <= phaseEnd;
  });
}

export function rollupRow(runs: readonly JobRunJson[], phaseStart: number, phaseEnd: number): Row {
  const inPhase = runsDuring(runs, phaseStart, phaseEnd);
  const before = runs.filter((r) => Date.parse(r.started_at) < phaseStart).length;
  const calls = inPhase.reduce((sum, r) => sum + (r.rows ?? 0), 0);
  const longest = Math.max(0, ...inPhase.map((r) => r.duration_ms ?? 0));
  const unfinished = inPhase.filter((r) => r.status !== "ok").length;
  return info(
    "server's rollup runs started during the phase (GET /api/jobs)",
    "cron off",
    `${inPhase.length} run${inPhase.length === 1 ? "" : "s"}, ${fmt.int(calls)} calls`,
    `longest ${ms(longest)}${unfinished ? `, ${unfinished} not ok` : ""}${before ? `, ${before} before the phase` : ""}`,
  );
}

export function lockedPhaseRows(quiet: LoadFigures, locked: LoadFigures, healthz: readonly LoopRecord[], holdMs: number, waitedMs: number): Row[] {
  const times = healthz.map((r) => r.ms);
  const max = times.length ? Math.max(...times) : NaN;
  const p99 = percentile(times, 99);
  const not200 = healthz.filter((r) => r.status !== 200);
  const statuses = [...new Set(not200.map((r) => r.status || r.error))].join(", ");
  const what = `write lock held ${holdMs / 1000} s by another process`;
  return [
    { metric: `/healthz max, ${what}`, direct: "—", tollbooth: ms(max), delta: `${times.length} polls`, target: `< ${TARGET_HEALTHZ_MS} ms`, result: verdict(max < TARGET_HEALTHZ_MS) },
    { metric: `/healthz p99, ${what}`, direct: "—", tollbooth: ms(p99), delta: "—", target: `< ${TARGET_HEALTHZ_MS} ms`, result: verdict(p99 < TARGET_HEALTHZ_MS) },
    info(`/healthz answers other than 200, ${what}`, "—", `${not200.length} of ${times.length}`, statuses || "—"),
    info(`proxied throughput, ${what}`, rate(quiet.rps), rate(locked.rps), fmt.ratio(locked.rps / quiet.rps)),
    info(`proxied p99, ${what}`, ms(quiet.p99), ms(locked.p99), added(locked.p99 - quiet.p99)),
    info(`proxied max, ${what}`, ms(quiet.max), ms(locked.max), added(locked.max - quiet.max)),
    info(`longest time without a proxied answer, ${what}`, ms(quiet.stallMs), ms(locked.stallMs), added(locked.stallMs - quiet.stallMs)),
    info("time the lock holder waited for the lock", "—", ms(waitedMs), "—"),
  ];
}

/** Failed proxied calls per phase (quiet, dashboard, locked) and in all (warm-ups included). */
export function failedRow(phases: { quiet: LoadFigures; dashboard: LoadFigures; locked: LoadFigures }, total: number): Row {
  return {
    metric: "failed proxied requests (all phases and warm-ups)",
    direct: fmt.int(phases.quiet.failed),
    tollbooth: `${fmt.int(phases.dashboard.failed)} dashboard, ${fmt.int(phases.locked.failed)} locked`,
    delta: `${fmt.int(total)} in all`,
    target: "0",
    result: verdict(total === 0),
  };
}
