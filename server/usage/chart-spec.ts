import { formatNanoAsUsd } from "../money.ts";
import { OTHER_LABEL, type Measures, type UsageReport } from "./usage-query.ts";
import type { ModelPalette } from "./palette.ts";

// Turns a usage report into the JSON that app.js hands to Chart.js (via a data-chart attribute,
// so no inline script). Numbers here are for plotting only: money is converted from the exact
// decimal string, never computed with.

type ChartUnit = "usd" | "tokens" | "count" | "ms";
export type ChartMetric = "cost" | "requests" | "tokens" | "errors" | "latency";

interface ChartSeries {
  label: string;
  /** Palette index (model-color.ts); -1 = neutral, for "(other)" and "none". */
  color: number;
  /** Per-bar palette indexes, when each bar is its own thing (one series over models). */
  colors?: number[];
  data: Array<number | null>;
}

export interface ChartSpec {
  type: "bar" | "line";
  stacked: boolean;
  /** Bars along the y axis: long category names (model ids) stay readable. */
  horizontal?: boolean;
  unit: ChartUnit;
  labels: string[];
  series: ChartSeries[];
}

const METRIC_UNIT: Record<ChartMetric, ChartUnit> = { cost: "usd", requests: "count", tokens: "tokens", errors: "count", latency: "ms" };

function metricValue(m: Measures, metric: ChartMetric): number {
  switch (metric) {
    case "cost":
      return Number(formatNanoAsUsd(m.costNano));
    case "requests":
      return Number(m.requests);
    case "tokens":
      return Number(m.promptTokens + m.completionTokens);
    case "errors":
      return Number(m.errors);
    case "latency":
      return averageLatencyMs(m) ?? 0;
  }
}

/** Mean duration of the calls (ms, whole), null without calls. Rollups keep sums, not percentiles. */
export function averageLatencyMs(m: Measures): number | null {
  return m.requests > 0n ? Number((m.durationMsSum + m.requests / 2n) / m.requests) : null;
}

/** How a dimension value reads in a legend: null (no team header…) becomes "(none)". */
function seriesLabel(value: string | null | undefined): string {
  return value === null || value === undefined ? "(none)" : value;
}

function seriesColor(palette: ModelPalette, value: string | null | undefined): number {
  return value === null || value === undefined || value === OTHER_LABEL ? -1 : palette.colorIndex(value);
}

/**
 * A report grouped by [period, dimension] as one series per dimension value over the periods
 * (`labels`: every period label of the range, so empty periods show as gaps, not as missing days).
 */
export function timeSeriesChart(palette: ModelPalette, report: UsageReport, periodKey: string, dimKey: string, metric: ChartMetric, labels: string[], type: "bar" | "line"): ChartSpec {
  const index = new Map(labels.map((l, i) => [l, i]));
  const series = new Map<string, ChartSeries>();
  for (const row of report.rows) {
    const at = index.get(row.group[periodKey] ?? "");
    if (at === undefined) continue;
    const name = seriesLabel(row.group[dimKey]);
    let s = series.get(name);
    if (!s) {
      s = { label: name, color: seriesColor(palette, row.group[dimKey]), data: labels.map(() => 0) };
      series.set(name, s);
    }
    s.data[at] = metricValue(row, metric);
  }
  // Biggest series first (bottom of the stack, first in the legend); "(other)" last.
  const total = (s: ChartSeries) => s.data.reduce<number>((a, b) => a + (b ?? 0), 0);
  const ordered = [...series.values()].sort((a, b) => (a.label === OTHER_LABEL ? 1 : b.label === OTHER_LABEL ? -1 : total(b) - total(a)));
  return { type, stacked: type === "bar", unit: METRIC_UNIT[metric], labels, series: ordered };
}

/** One bar per row of a report grouped by one dimension (each bar in that value's colour). */
export function barsChart(palette: ModelPalette, report: UsageReport, dimKey: string, metric: ChartMetric, seriesName: string): ChartSpec {
  const rows = report.rows;
  return {
    type: "bar",
    stacked: false,
    horizontal: true,
    unit: METRIC_UNIT[metric],
    labels: rows.map((r) => seriesLabel(r.group[dimKey])),
    series: [{ label: seriesName, color: -1, colors: rows.map((r) => seriesColor(palette, r.group[dimKey])), data: rows.map((r) => metricValue(r, metric)) }],
  };
}

/** Rows grouped by two dimensions as stacked bars: x = first dimension, stacks = second. */
export function stackedChart(palette: ModelPalette, report: UsageReport, xKey: string, stackKey: string, metric: ChartMetric): ChartSpec {
  const labels = [...new Set(report.rows.map((r) => seriesLabel(r.group[xKey])))];
  const index = new Map(labels.map((l, i) => [l, i]));
  const series = new Map<string, ChartSeries>();
  for (const row of report.rows) {
    const name = seriesLabel(row.group[stackKey]);
    let s = series.get(name);
    if (!s) series.set(name, (s = { label: name, color: seriesColor(palette, row.group[stackKey]), data: labels.map(() => 0) }));
    s.data[index.get(seriesLabel(row.group[xKey]))!] = metricValue(row, metric);
  }
  return { type: "bar", stacked: true, horizontal: true, unit: METRIC_UNIT[metric], labels, series: [...series.values()] };
}
