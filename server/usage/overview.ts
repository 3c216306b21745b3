import type { Db } from "../db/open.ts";
import { recentLatency, type LatencyStats } from "../requests/recent.ts";
import { usageSummary } from "./usage-summary.ts";
import { queryUsage } from "./usage-query.ts";
import { bucketEndAfter, startOf } from "../time.ts";
import { timeSeriesChart, type ChartSpec } from "./chart-spec.ts";
import type { ModelPalette } from "./palette.ts";
import { periodLabels } from "./period-labels.ts";
import { topItems, type TopItem } from "./top-list.ts";

// What the overview page shows, composed from the spend module's query functions (rollups plus
// the fresh tail) and a bounded latency sample; nothing here scans calls.

export const CHART_DAYS = 30;
const TOP = 5;

export type Summary = ReturnType<typeof usageSummary>;

export interface OverviewFigures {
  tz: string;
  today: Summary;
  month: Summary;
  latency: LatencyStats;
  topModels: TopItem[];
  topTeams: TopItem[];
  topKeys: TopItem[];
}

export function overviewFigures(db: Db, tz: string, now: number): OverviewFigures {
  const from = startOf("month", now, tz);
  const to = bucketEndAfter(now);
  const top = (key: "model" | "team" | "key") => topItems(queryUsage(db, { from, to, tz, groupBy: [key] }), key, TOP);
  return {
    tz,
    today: usageSummary(db, "day", tz, now),
    month: usageSummary(db, "month", tz, now),
    latency: recentLatency(db),
    topModels: top("model"),
    topTeams: top("team"),
    topKeys: top("key"),
  };
}

export function dailySpendChart(palette: ModelPalette, db: Db, tz: string, now: number): ChartSpec {
  const from = startOf("day", now - (CHART_DAYS - 1) * 86_400_000, tz);
  const to = bucketEndAfter(now);
  const report = queryUsage(db, { from, to, tz, groupBy: ["day", "model"] });
  return timeSeriesChart(palette, report, "day", "model", "cost", periodLabels("day", from, to, tz), "bar");
}
