import type { Db } from "../db/database.ts";
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

export type Summary = Awaited<ReturnType<typeof usageSummary>>;

export interface OverviewFigures {
  tz: string;
  today: Summary;
  month: Summary;
  latency: LatencyStats;
  topModels: TopItem[];
  topTeams: TopItem[];
  topKeys: TopItem[];
}

export async function overviewFigures(db: Db, tz: string, now: number): Promise<OverviewFigures> {
  const from = startOf("month", now, tz);
  const to = bucketEndAfter(now);
  const top = async (key: "model" | "team" | "key") => topItems(await queryUsage(db, { from, to, tz, groupBy: [key] }), key, TOP);
  return {
    tz,
    today: await usageSummary(db, "day", tz, now),
    month: await usageSummary(db, "month", tz, now),
    latency: await recentLatency(db),
    topModels: await top("model"),
    topTeams: await top("team"),
    topKeys: await top("key"),
  };
}

export async function dailySpendChart(palette: ModelPalette, db: Db, tz: string, now: number): Promise<ChartSpec> {
  const from = startOf("day", now - (CHART_DAYS - 1) * 86_400_000, tz);
  const to = bucketEndAfter(now);
  const report = await queryUsage(db, { from, to, tz, groupBy: ["day", "model"] });
  return timeSeriesChart(palette, report, "day", "model", "cost", periodLabels("day", from, to, tz), "bar");
}
