import type { ChartMetric, ChartSpec } from "../../server/usage/chart-spec.ts";
import type { UsageReport } from "../../server/usage/usage-query.ts";
import { Chart } from "./chart.tsx";
import { SelectField } from "../components/select-field.tsx";
import { TzField } from "../components/tz-field.tsx";
import { UsageTable } from "./usage-table.tsx";

export const USAGE_RANGES: Array<[string, string]> = [
  ["24h", "Last 24 hours"],
  ["7d", "Last 7 days"],
  ["30d", "Last 30 days"],
  ["90d", "Last 90 days"],
];
export const GRANULARITIES: Array<[string, string]> = [
  ["hour", "Hourly"],
  ["day", "Daily"],
  ["week", "Weekly"],
];
export const METRICS: Array<[ChartMetric, string]> = [
  ["requests", "Requests"],
  ["tokens", "Tokens (prompt + completion)"],
  ["cost", "Cost (USD)"],
  ["errors", "Errors"],
  ["latency", "Average latency"],
];

export interface UsageQuery {
  range: string;
  granularity: string;
  metric: ChartMetric;
  tz: string;
}

export function UsageReportView({ query, chart, byModel, error }: { query: UsageQuery; chart: ChartSpec | null; byModel: UsageReport | null; error: string | null }) {
  if (error || !chart || !byModel) return <p class="notice err" role="alert">{error ?? "no data"}</p>;
  const metricLabel = METRICS.find(([m]) => m === query.metric)?.[1] ?? query.metric;
  return (
    <>
      {byModel.rows.length === 0 ? (
        <p class="empty">No calls in this range. Pick a longer range, or send a call through the proxy.</p>
      ) : (
        <>
          <Chart spec={chart} label={`${metricLabel} per ${query.granularity} by model`} caption={`${metricLabel} per ${query.granularity} by model, ${query.tz}.`} />
          <h2>By model</h2>
          <UsageTable columns={[{ key: "model", label: "Model" }]} rows={byModel.rows} totals={byModel.totals} caption="Usage by model" latency />
        </>
      )}
    </>
  );
}

export function UsagePage(props: { query: UsageQuery; chart: ChartSpec | null; byModel: UsageReport | null; error: string | null }) {
  const { query } = props;
  return (
    <>
      <hgroup>
        <h1>Usage</h1>
        <p>Requests, tokens, cost and latency by model over time.</p>
      </hgroup>
      <form class="filters" method="get" action="/usage" hx-get="/usage" hx-target="#usage-report" hx-push-url="true" hx-trigger="change, submit" hx-sync="this:queue last">
        <div class="filter-row">
          <SelectField label="Range" name="range" options={USAGE_RANGES} value={query.range} />
          <SelectField label="Granularity" name="granularity" options={GRANULARITIES} value={query.granularity} />
          <SelectField label="Chart" name="metric" options={METRICS} value={query.metric} />
          <TzField value={query.tz} />
        </div>
        <noscript>
          <button type="submit">Show</button>
        </noscript>
      </form>
      <section id="usage-report" aria-live="polite">
        <UsageReportView {...props} />
      </section>
    </>
  );
}
