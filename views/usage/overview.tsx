import type { Child } from "hono/jsx";
import type { ChartSpec } from "../../server/usage/chart-spec.ts";
import { CHART_DAYS, type OverviewFigures as Figures, type Summary } from "../../server/usage/overview.ts";
import { Chart } from "./chart.tsx";
import { FirstCallHint } from "./first-call-hint.tsx";
import { formatChange, formatCount, formatMs, formatPercent, formatUsd } from "../../server/format.ts";
import { TopList } from "./top-list.tsx";
import { BudgetWatch } from "../budgets/budget-watch.tsx";
import type { BudgetUse } from "../../server/budgets/closest-budgets.ts";

function Change({ summary, against }: { summary: Summary; against: string }) {
  const pct = summary.change_percent;
  const cls = pct === null ? "muted" : Number(pct) > 0 ? "up" : "down";
  return (
    <span class={cls} title={`Projected spend of this ${summary.period} against the whole previous ${summary.period}`}>
      {pct === null ? `no spend ${against}` : `${formatChange(pct)} vs all of ${against}`}
    </span>
  );
}

function Kpi({ label, value, children, id }: { label: string; value: string; children?: Child; id: string }) {
  return (
    <article class="kpi" id={id}>
      <div class="label">{label}</div>
      <div class="value">{value}</div>
      <div class="sub">{children}</div>
    </article>
  );
}

/** The polled part of the overview: re-fetched every 10 s and swapped in place (htmx). */
export function OverviewFigures({ figures }: { figures: Figures }) {
  const { today, month, latency } = figures;
  const errorRate = today.current.requests > 0 ? today.current.errors / today.current.requests : 0;
  return (
    <div id="figures" hx-get="/overview/figures" hx-trigger="every 10s" hx-swap="outerHTML">
      {month.current.unpriced_requests > 0 ? (
        <p class="notice" role="status">
          {formatCount(month.current.unpriced_requests)} calls this month used models without a price and are not in the totals.{" "}
          <a href="/prices">Add a price</a>, then <a href="/prices/reprice">re-price this month</a>.
        </p>
      ) : null}
      <div class="kpis">
        <Kpi id="kpi-today" label="Spend today" value={formatUsd(today.current.cost_usd)}>
          {today.projected_cost_usd !== null ? `projected ${formatUsd(today.projected_cost_usd)} · ` : ""}
          <Change summary={today} against="yesterday" />
        </Kpi>
        <Kpi id="kpi-month" label="Spend this month" value={formatUsd(month.current.cost_usd)}>
          {month.projected_cost_usd !== null ? `month-end ≈ ${formatUsd(month.projected_cost_usd)} · ` : ""}
          <Change summary={month} against="last month" />
        </Kpi>
        <Kpi id="kpi-requests" label="Requests today" value={formatCount(today.current.requests)}>
          <span class={errorRate > 0.05 ? "up" : ""}>{formatPercent(errorRate)} errors</span> ({formatCount(today.current.errors)} failed) ·{" "}
          <a href="/requests/failed">failures</a>
        </Kpi>
        <Kpi id="kpi-latency" label="Latency p50 / p95" value={`${formatMs(latency.p50)} / ${formatMs(latency.p95)}`}>
          last {formatCount(latency.sample)} successful calls
          {latency.ttftP50 !== null ? ` · TTFT p50 ${formatMs(latency.ttftP50)}` : ""}
        </Kpi>
      </div>
      <div class="tops">
        <TopList title="Top models this month" items={figures.topModels} kind="model" empty="No calls this month yet." />
        <TopList title="Top teams this month" items={figures.topTeams} kind="team" empty="No calls this month yet." />
        <TopList title="Top keys this month" items={figures.topKeys} kind="key" empty="No calls this month yet." />
      </div>
    </div>
  );
}

export function OverviewPage({ figures, chart, origin, hasCalls, budgets }: { figures: Figures; chart: ChartSpec; origin: string; hasCalls: boolean; budgets: BudgetUse[] }) {
  return (
    <>
      <hgroup>
        <h1>Overview</h1>
        <p>
          Spend and traffic through this tollbooth. Days and months in <strong>{figures.tz}</strong>; figures refresh every 10 seconds.
        </p>
      </hgroup>
      {hasCalls ? null : <FirstCallHint origin={origin} />}
      <OverviewFigures figures={figures} />
      <BudgetWatch budgets={budgets} />
      {hasCalls ? (
        <section>
          <h2>Daily spend by model</h2>
          <Chart spec={chart} label={`Stacked bar chart of spend per day by model, last ${CHART_DAYS} days`} caption={`Last ${CHART_DAYS} days, ${figures.tz}. Unpriced calls are not included.`} />
        </section>
      ) : null}
    </>
  );
}
