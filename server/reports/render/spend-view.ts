import type { UsageRowJson } from "../../usage/usage-json.ts";
import { formatChange, formatCount, formatPercent, formatUsd } from "../../format.ts";
import type { Mover } from "../movers.ts";
import type { SpendData } from "../spend-data.ts";
import type { ReportFilter } from "../schedule-input.ts";
import type { PeriodNames } from "./period-name.ts";

// The spend report as display strings, shared by the HTML and the plain-text part so the two can
// never disagree. Formatting is the dashboard's (server/format.ts): amounts to the
// cent like the pages, counts exact. Bar lengths are display-only ratios of the exact amounts.

export interface BreakdownLine {
  label: string;
  usd: string;
  requests: string;
  ratio: number;
}

export interface SpendView {
  subject: string;
  heading: string;
  scopeLine: string;
  total: string;
  change: string;
  changeDirection: "up" | "down" | "flat" | "new";
  previousTotal: string;
  requests: string;
  tokens: string;
  errorRate: string;
  errors: string;
  unpriced: { count: string; models: string[] } | null;
  byModel: BreakdownLine[];
  byTeam: BreakdownLine[];
  byKey: BreakdownLine[];
  movers: { label: string; previous: string; current: string; delta: string; change: string }[];
}

export function filterLine(filter: ReportFilter | null): string {
  if (!filter) return "all calls";
  return (["team", "project", "model"] as const)
    .filter((k) => filter[k] !== undefined)
    .map((k) => `${k} ${filter[k]}`)
    .join(", ");
}

function groupLabel(row: UsageRowJson, key: string): string {
  if (row.other) return "(other)";
  return row.group[key] ?? "(none)";
}

function breakdown(rows: UsageRowJson[], key: string): BreakdownLine[] {
  const max = Math.max(0, ...rows.map((r) => Number(r.cost_usd)));
  return rows.map((r) => ({
    label: groupLabel(r, key),
    usd: formatUsd(r.cost_usd),
    requests: `${formatCount(r.requests)} req`,
    ratio: max > 0 ? Number(r.cost_usd) / max : 0,
  }));
}

function signedUsd(decimal: string): string {
  return decimal.startsWith("-") ? `−${formatUsd(decimal.slice(1))}` : `+${formatUsd(decimal)}`;
}

function moverLine(m: Mover) {
  return {
    label: `${m.dimension} ${m.name ?? "(none)"}`,
    previous: formatUsd(m.previousUsd),
    current: formatUsd(m.currentUsd),
    delta: signedUsd(m.deltaUsd),
    change: formatChange(m.changePercent),
  };
}

export function spendView(data: SpendData, names: PeriodNames): SpendView {
  const t = data.totals;
  const direction = data.changePercent === null ? "new" : Number(data.changePercent) > 0 ? "up" : Number(data.changePercent) < 0 ? "down" : "flat";
  const vs = data.changePercent === null ? `no spend in ${names.previous}` : `${formatChange(data.changePercent)} vs ${names.previous}`;
  const scope = data.scope.filter ? ` (${filterLine(data.scope.filter)})` : "";
  const unpricedModels = data.byModel.filter((r) => r.unpriced_requests > 0).map((r) => `${groupLabel(r, "model")} (${formatCount(r.unpriced_requests)})`);
  return {
    subject: `Spend report ${names.title}${scope}: ${formatUsd(t.cost_usd)} (${vs})`,
    heading: `Spend report · ${names.title}`,
    scopeLine: `${filterLine(data.scope.filter)} · ${data.scope.tz}`,
    total: formatUsd(t.cost_usd),
    change: vs,
    changeDirection: direction,
    previousTotal: formatUsd(data.previousTotals.cost_usd),
    requests: formatCount(t.requests),
    tokens: formatCount(t.prompt_tokens + t.completion_tokens),
    errorRate: t.requests > 0 ? formatPercent(t.errors / t.requests) : "–",
    errors: `${formatCount(t.errors)} failed`,
    unpriced: t.unpriced_requests > 0 ? { count: formatCount(t.unpriced_requests), models: unpricedModels } : null,
    byModel: breakdown(data.byModel, "model"),
    byTeam: breakdown(data.byTeam, "team"),
    byKey: breakdown(data.byKey, "key"),
    movers: data.movers.map(moverLine),
  };
}
