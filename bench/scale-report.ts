import type { ScaleResult } from "./scale-run.ts";

// `npm run bench:scale`'s table: one column per setup (SQLite on one instance, then PostgreSQL
// with 1, 2 and 4 instances), one row per figure. Ratios are against one instance on PostgreSQL,
// the baseline that more instances are meant to improve on.

const int = (x: number) => Math.round(x).toLocaleString("en-US");
const cpuTotal = (c: { tollbooth: number; postgres: number }) => c.tollbooth + c.postgres;
const CALLS_PER_MONTH = 1_000_000 * 30;

/** Bytes per call counted for the sizing: the calls table and the rollups, with their indexes. */
const bytesPerCall = (r: ScaleResult) => (r.bytes.calls + r.bytes.rollups) / r.rows;
/** Decimal GB a month at 1M calls a day (30 days). */
const gbPerMonth = (bytes: number) => (bytes * CALLS_PER_MONTH) / 1e9;
/** Calls answered in the window per CPU-second of tollbooth + PostgreSQL, settling included. */
const callsPerCpuSecond = (r: ScaleResult) => r.load.completed / cpuTotal(r.settledCpu);

/**
 * The mean of several rounds of one setup, field by field (numbers averaged, anything else taken
 * from the first round): rounds run in alternating order, so drift in the machine's load hits
 * every setup alike.
 */
export function meanOfRounds<T>(rounds: readonly T[]): T {
  const first = rounds[0]!;
  if (typeof first === "number") return (rounds as readonly number[]).reduce((a, b) => a + b, 0) / rounds.length as T;
  if (first === null || typeof first !== "object") return first;
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(first)) out[key] = meanOfRounds(rounds.map((r) => (r as Record<string, unknown>)[key]));
  return out as T;
}

const label = (r: ScaleResult) => `${r.engine === "sqlite" ? "SQLite" : "PostgreSQL"}, ${r.instances} instance${r.instances > 1 ? "s" : ""}`;

/** The PostgreSQL share of a figure; SQLite runs inside the tollbooth process. */
const pgPart = (r: ScaleResult, figure: string) => (r.engine === "sqlite" ? " (in-process)" : ` + ${figure}`);

export function scaleTable(results: readonly ScaleResult[]): string {
  const base = results.find((r) => r.engine === "postgres" && r.instances === 1);
  const ratio = (r: ScaleResult, f: (x: ScaleResult) => number) => (base ? `${(f(r) / f(base)).toFixed(2)}×` : "—");
  const rows: Array<[string, (r: ScaleResult) => string]> = [
    ["proxied JSON calls/s", (r) => int(r.load.completed / r.load.seconds)],
    ["  vs PostgreSQL, 1 instance", (r) => ratio(r, (x) => x.load.completed / x.load.seconds)],
    ["failed calls in the window", (r) => int(r.load.failed)],
    ["recorder rows/s into the database", (r) => int(r.rowsPerSecond)],
    ["rows per recorder batch (mean)", (r) => (r.rowsPerSecond * r.load.seconds / Math.max(1, r.batches)).toFixed(1)],
    ["max rollup lag (sampled every 1 s)", (r) => `${r.maxLagSeconds.toFixed(1)} s`],
    ["drain + roll-up after the load stops", (r) => `${r.settleSeconds.toFixed(1)} s`],
    ["cores busy: tollbooth + PostgreSQL", (r) => `${(r.windowCpu.tollbooth / r.load.seconds).toFixed(2)}${pgPart(r, (r.windowCpu.postgres / r.load.seconds).toFixed(2))}`],
    ["CPU per call: tollbooth + PostgreSQL", (r) => `${int((r.settledCpu.tollbooth / r.load.completed) * 1e6)}${pgPart(r, int((r.settledCpu.postgres / r.load.completed) * 1e6))} µs`],
    ["calls/s per core (tollbooth + PostgreSQL)", (r) => int(callsPerCpuSecond(r))],
    ["  vs PostgreSQL, 1 instance", (r) => ratio(r, callsPerCpuSecond)],
    ["rows measured for size", (r) => int(r.rows)],
    ["bytes per call: calls + indexes", (r) => int(r.bytes.calls / r.rows)],
    ["bytes per call: rollups", (r) => int(r.bytes.rollups / r.rows)],
    ["bytes per call: SQLite whole file", (r) => (r.bytes.file === null ? "—" : int(r.bytes.file / r.rows))],
    ["GB/month at 1M calls/day (calls + rollups)", (r) => gbPerMonth(bytesPerCall(r)).toFixed(1)],
  ];
  const head = ["metric", ...results.map(label)];
  const cells = rows.map(([name, f]) => [name, ...results.map(f)]);
  const widths = head.map((h, i) => Math.max(h.length, ...cells.map((c) => c[i]!.length)));
  const line = (c: string[]) => `| ${c.map((s, i) => s.padEnd(widths[i]!)).join(" | ")} |`;
  return [line(head), `|${widths.map((w) => "-".repeat(w + 2)).join("|")}|`, ...cells.map(line)].join("\n");
}
