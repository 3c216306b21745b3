import type { LatencyComparison, Tallies, ThroughputComparison } from "./compare.ts";
import { isFlat, type Drift } from "./memory.ts";
import type { WriteRate } from "./recorder-rate.ts";
import { fmt, verdict, type Row } from "./table.ts";

// Turns the measured figures into table rows with their targets (docs/architecture.md, "Performance
// targets").

const TARGETS = { addedMeanMs: 1, throughputRatio: 0.5, recorderRowsPerSec: 20_000 } as const;

export function latencyRows(name: string, c: LatencyComparison): Row[] {
  const rows: Row[] = (["mean", "p50", "p99"] as const).map((k) => ({
    metric: `${name} latency ${k}, 1 conn`,
    direct: fmt.ms(c.direct[k]),
    tollbooth: fmt.ms(c.tollbooth[k]),
    delta: fmt.added(c.added[k]),
    target: k === "mean" ? `≤ +${TARGETS.addedMeanMs} ms` : "—",
    result: k === "mean" ? verdict(c.added.mean <= TARGETS.addedMeanMs) : "—",
  }));
  // The bare proxy's value goes in the tollbooth column, labelled: how much of tollbooth's
  // added latency any Node proxy adds. Mean only, to keep the table short.
  rows.push({
    metric: `${name} latency mean, 1 conn, bare proxy`,
    direct: fmt.ms(c.direct.mean),
    tollbooth: `${fmt.ms(c.bare.mean)} bare`,
    delta: fmt.added(c.bareAdded.mean),
    target: "—",
    result: "—",
  });
  return rows;
}

/**
 * Per scenario: tollbooth vs direct (the target), the bare proxy vs direct (the floor on this
 * machine, a reference without a target), tollbooth vs the bare proxy (what tollbooth's own
 * work costs on top of being a proxy), then CPU per call of tollbooth and of the bare proxy.
 */
export function throughputRows(name: string, connections: number, c: ThroughputComparison): Row[] {
  const rate = (x: number, label = "") => `${fmt.rate(x, "req/s")}${label}`;
  const none = { target: "—", result: "—" } as const;
  return [
    {
      metric: `${name} throughput, ${connections} conns`,
      direct: rate(c.rps.direct),
      tollbooth: rate(c.rps.tollbooth),
      delta: fmt.ratio(c.ratio.tollbooth),
      target: `≥ ${TARGETS.throughputRatio}×`,
      result: verdict(c.ratio.tollbooth >= TARGETS.throughputRatio),
    },
    { metric: `${name} bare proxy throughput, ${connections} conns`, direct: rate(c.rps.direct), tollbooth: rate(c.rps.bare, " bare"), delta: fmt.ratio(c.ratio.bare), ...none },
    { metric: `${name} tollbooth vs bare proxy, ${connections} conns`, direct: rate(c.rps.bare, " bare"), tollbooth: rate(c.rps.tollbooth), delta: fmt.ratio(c.ratio.tollboothVsBare), ...none },
    cpuRow(`${name} CPU per call (serving process)`, c.cpuPerRequest.direct, c.cpuPerRequest.tollbooth, "tollbooth"),
    cpuRow(`${name} CPU per call, bare proxy`, c.cpuPerRequest.direct, c.cpuPerRequest.bare, "bare"),
  ];
}

/** Not a target: where a proxy's time goes, immune to how the shared cores were split. */
function cpuRow(metric: string, upstreamUs: number, proxyUs: number, proxy: string): Row {
  return {
    metric,
    direct: `${fmt.int(Math.round(upstreamUs))} µs upstream`,
    tollbooth: `${fmt.int(Math.round(proxyUs))} µs ${proxy}`,
    delta: `≤ ${fmt.rate(1e6 / proxyUs, "calls/s/core")}`,
    target: "—",
    result: "—",
  };
}

export function recorderRows(w: { raw: WriteRate; recorder: WriteRate }): Row[] {
  return [
    {
      metric: `recorder write rate (${fmt.int(w.recorder.rows)} rows)`,
      direct: fmt.rate(w.raw.rowsPerSec, "rows/s"),
      tollbooth: fmt.rate(w.recorder.rowsPerSec, "rows/s"),
      delta: fmt.ratio(w.recorder.rowsPerSec / w.raw.rowsPerSec),
      target: `≥ ${fmt.int(TARGETS.recorderRowsPerSec)} rows/s`,
      result: verdict(w.recorder.rowsPerSec >= TARGETS.recorderRowsPerSec),
    },
    {
      metric: "recorder write rate, slowest chunk",
      direct: fmt.rate(w.raw.minChunkRate, "rows/s"),
      tollbooth: fmt.rate(w.recorder.minChunkRate, "rows/s"),
      delta: fmt.ratio(w.recorder.minChunkRate / w.raw.minChunkRate),
      target: "—",
      result: "—",
    },
  ];
}

/** Two 10 s windows need a soak of at least 20 s; shorter (quick) soaks are reported, not judged. */
const MIN_JUDGED_SOAK_S = 20;

export function memoryRow(what: string, seconds: number, d: Drift): Row {
  const grow = d.lastMB - d.firstMB;
  const judged = seconds >= MIN_JUDGED_SOAK_S;
  return {
    metric: `server ${what}, ${seconds} s soak (first vs last ${d.windowSamples} s)`,
    direct: fmt.mb(d.firstMB),
    tollbooth: fmt.mb(d.lastMB),
    delta: `${grow >= 0 ? "+" : "−"}${fmt.mb(Math.abs(grow))} (${d.slopeMBPerMin >= 0 ? "+" : "−"}${Math.abs(d.slopeMBPerMin).toFixed(1)} MB/min)`,
    target: judged ? "≤ +10% or +20 MB" : `not judged (< ${MIN_JUDGED_SOAK_S} s)`,
    result: judged ? verdict(d.flat) : "—",
  };
}

/** The leak test: what stays reachable after 60 s of traffic, both ends idle and fully GC'd. */
export function liveHeapRow(seconds: number, beforeBytes: number, afterBytes: number): Row {
  const [before, after] = [beforeBytes / 2 ** 20, afterBytes / 2 ** 20];
  const judged = seconds >= MIN_JUDGED_SOAK_S;
  return {
    metric: "server live heap after full GC, idle before vs after soak",
    direct: fmt.mb(before),
    tollbooth: fmt.mb(after),
    delta: `${after >= before ? "+" : "−"}${fmt.mb(Math.abs(after - before))}`,
    target: judged ? "≤ +10% or +20 MB" : `not judged (< ${MIN_JUDGED_SOAK_S} s)`,
    result: judged ? verdict(isFlat(before, after)) : "—",
  };
}

/**
 * Every call recorded exactly once (docs/architecture.md), under load: one row per request sent
 * through tollbooth, warm-up and soak included.
 */
export function recordedRow(sent: number, rows: number): Row {
  const diff = rows - sent;
  return {
    metric: "calls recorded via proxy (all phases)",
    direct: `${fmt.int(sent)} sent`,
    tollbooth: `${fmt.int(rows)} rows`,
    delta: diff === 0 ? "exact" : `${diff > 0 ? "+" : ""}${fmt.int(diff)}`,
    target: "rows = requests sent",
    result: verdict(diff === 0),
  };
}

export function recordingRateRow(connections: number, rate: { rowsPerSec: number; maxPending: number }): Row {
  return {
    metric: `recording rate via proxy, soak (${connections} conns)`,
    direct: "—",
    tollbooth: fmt.rate(rate.rowsPerSec, "rows/s"),
    delta: `max queue ${fmt.int(rate.maxPending)}`,
    target: "—",
    result: "—",
  };
}

export function failedRow(t: Tallies): Row {
  return {
    metric: "failed requests (all phases)",
    direct: fmt.int(t.direct.failed),
    tollbooth: fmt.int(t.tollbooth.failed),
    delta: `bare proxy ${fmt.int(t.bare.failed)}`,
    target: "0",
    result: verdict(t.direct.failed === 0 && t.bare.failed === 0 && t.tollbooth.failed === 0),
  };
}

/** bench/out/gateway.md: the table with what it measured and how. */
export function gatewayDocument(context: string, table: string, summary: string, errors: readonly string[]): string {
  return [
    "# tollbooth gateway benchmark",
    "",
    `${new Date().toISOString()} · ${context}`,
    "",
    "direct = load generator → fake upstream; tollbooth = load generator → tollbooth → fake upstream; bare proxy = load generator → a minimal node:http + undici forwarder (no recording, no checks) → fake upstream (four processes, 127.0.0.1 only).",
    "The bare proxy is a reference, not a target: the floor any Node proxy pays on this machine, where generator, proxy and upstream share 2 cores. Its values sit in the tollbooth column, marked \"bare\"; \"tollbooth vs bare proxy\" is what tollbooth's own work costs on top of being a proxy.",
    "Figures are medians over interleaved rounds (each round runs all three targets, in an order that rotates from round to round); added and ratio are medians of per-round differences and ratios.",
    "CPU per call is the serving process's own CPU time (not affected by how the shared cores were split).",
    "Recorder baseline: the same rows, priced the same way, through cached better-sqlite3 statements.",
    "Memory: median of the first vs the last 10 samples (1/s) of the soak, slope by least squares; live heap = heapUsed after a forced full GC, with the server idle just before and just after the soak.",
    "",
    table,
    "",
    summary,
    ...errors.map((e) => `First failure: ${e}`),
    "",
  ].join("\n");
}
