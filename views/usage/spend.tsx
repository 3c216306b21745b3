import type { ChartSpec } from "../../server/usage/chart-spec.ts";
import type { PeriodPreset } from "../../server/usage/spend-period.ts";
import type { Measures, UsageReport } from "../../server/usage/usage-query.ts";
import { Chart } from "./chart.tsx";
import { SelectField } from "../components/select-field.tsx";
import { formatCount } from "../../server/format.ts";
import { TzField } from "../components/tz-field.tsx";
import { UsageTable, type GroupColumn } from "./usage-table.tsx";
import { GROUP_LABELS, THEN_LABELS } from "../../server/usage/spend-groups.ts";

const PRESET_LABELS: Array<[PeriodPreset, string]> = [
  ["this-month", "This month"],
  ["last-month", "Last month"],
  ["this-quarter", "This quarter"],
  ["last-quarter", "Last quarter"],
  ["custom", "Custom dates"],
];


export interface SpendQuery {
  period: PeriodPreset;
  from: string;
  to: string;
  tz: string;
  by: string;
  then: string;
  compare: boolean;
}

export interface SpendResult {
  from: number;
  to: number;
  previousFrom: number;
  previousTo: number;
  /** "2025-03-01 – 2025-03-31" in the chosen zone (both days inclusive). */
  label: string;
  previousLabel: string;
  /** The period runs to now: Change then sets its spend so far against the whole previous period. */
  toDate: boolean;
  columns: GroupColumn[];
  report: UsageReport;
  previous: { byGroup: Map<string, Measures>; totals: Measures } | null;
  chart: ChartSpec;
  /** /spend/export.csv?… with exactly the API parameters of what is shown. */
  csvHref: string;
  apiQuery: string;
}

export function SpendReport({ result, error, query }: { result: SpendResult | null; error: string | null; query: SpendQuery }) {
  if (error || !result) return <p class="notice err" role="alert">{error ?? "no data"}</p>;
  const { report } = result;
  return (
    <>
      <p class="period-line">
        <strong>{result.label}</strong> <span class="muted">({query.tz})</span>
        {result.previous ? (
          <span class="muted">
            {" "}
            · Change: {result.toDate ? "this period so far" : "this period"} against all of {result.previousLabel}
          </span>
        ) : null}
      </p>
      {report.totals.unpricedRequests > 0n ? (
        <p class="notice" role="status">
          {formatCount(report.totals.unpricedRequests)} calls in this period used models without a price: they are counted but cost nothing
          here, so the real spend is higher. <a href="/prices">Add a price</a>, then{" "}
          <a href={`/prices/reprice?${new URLSearchParams({ from: new Date(result.from).toISOString(), to: new Date(result.to).toISOString() })}`}>re-price this period</a>.
        </p>
      ) : null}
      {report.rows.length === 0 ? (
        <p class="empty">No spend in this period.</p>
      ) : (
        <>
          <Chart spec={result.chart} label="Bar chart of cost by the chosen breakdown" />
          <UsageTable columns={result.columns} rows={report.rows} totals={report.totals} previous={result.previous ?? undefined} caption="Spend breakdown" />
        </>
      )}
      <p class="export">
        {/* biome-ignore lint/a11y/useSemanticElements: a download link, drawn as a button by Pico's [role=button] */}
        <a href={result.csvHref} role="button" class="secondary outline" download="">
          Download CSV
        </a>{" "}
        <small class="muted">
          What this table shows (Previous, Change and the Total row included). The rows alone: <code>/api/usage.csv?{result.apiQuery}</code> with the admin token.
        </small>
      </p>
    </>
  );
}

export function SpendPage(props: { query: SpendQuery; result: SpendResult | null; error: string | null }) {
  const { query } = props;
  return (
    <>
      <hgroup>
        <h1>Spend</h1>
        <p>Cost breakdowns for finance: by model, team, project, user or key, in any time zone.</p>
      </hgroup>
      <form class="filters" method="get" action="/spend" hx-get="/spend" hx-target="#spend-report" hx-push-url="true" hx-trigger="change, submit" hx-sync="this:queue last">
        <div class="filter-row">
          <SelectField label="Period" name="period" options={PRESET_LABELS} value={query.period} />
          <label>
            From (custom)
            <input type="date" name="from" value={query.from} data-custom-period="" />
          </label>
          <label>
            To (custom, inclusive)
            <input type="date" name="to" value={query.to} data-custom-period="" />
          </label>
          <TzField value={query.tz} />
          <SelectField label="Group by" name="by" options={GROUP_LABELS} value={query.by} />
          <SelectField label="Then by" name="then" options={THEN_LABELS} value={query.then} />
        </div>
        <label class="inline-check">
          {/* The hidden field makes "off" explicit: an unchecked box sends nothing. */}
          <input type="hidden" name="compare" value="0" />
          <input type="checkbox" name="compare" value="1" checked={query.compare} role="switch" aria-checked={query.compare} /> Compare with the previous period
        </label>
        <noscript>
          <button type="submit">Show</button>
        </noscript>
      </form>
      <section id="spend-report" aria-live="polite">
        <SpendReport {...props} />
      </section>
    </>
  );
}
