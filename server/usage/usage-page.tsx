import { Hono } from "hono";
import type { AppDeps } from "../app.ts";
import { timeSeriesChart, type ChartMetric } from "./chart-spec.ts";
import { periodLabels } from "./period-labels.ts";
import { regroup } from "./regroup.ts";
import { queryUsage } from "./usage-query.ts";
import { TimeError, assertTimeZone, isValidTimeZone, bucketEndAfter, startOf, type CalendarUnit } from "../time.ts";
import { GRANULARITIES, METRICS, USAGE_RANGES, UsagePage, UsageReportView, type UsageQuery } from "../../views/usage/usage.tsx";
import { wantsFragment, type PageEnv, renderFragment } from "../pages/page-env.tsx";

const RANGE_DAYS: Record<string, number> = { "24h": 1, "7d": 7, "30d": 30, "90d": 90 };

function pick<T extends string>(value: string | undefined, options: Array<[T, string]>, fallback: T): T {
  return options.some(([v]) => v === value) ? (value as T) : fallback;
}

/** GET /usage: usage by model over time (rollups through the spend module's queryUsage). */
export function usagePages({ db, clock, config }: Pick<AppDeps, "db" | "clock" | "config">): Hono<PageEnv> {
  const app = new Hono<PageEnv>();
  app.get("/usage", async (c) => {
    const q = c.req.query();
    const range = pick(q.range, USAGE_RANGES, "30d");
    // Hourly over 90 days would be 2,160 bars per model: default to a sensible grain per range.
    // Average latencies are drawn as lines (stacking averages would add them up).
    const granularity = pick(q.granularity, GRANULARITIES, range === "24h" ? "hour" : range === "90d" ? "week" : "day") as CalendarUnit;
    const metric = pick<ChartMetric>(q.metric, METRICS, "requests");
    const tz = q.tz?.trim() || config.REPORT_TZ;
    const query: UsageQuery = { range, granularity, metric, tz };
    // The page's zone is the one its form chose: its timestamps follow its chart.
    if (isValidTimeZone(tz)) c.set("tz", tz);

    let props: Parameters<typeof UsagePage>[0];
    try {
      assertTimeZone(tz);
      const now = clock.now();
      const from = startOf(granularity, now - RANGE_DAYS[range]! * 86_400_000, tz);
      const to = bucketEndAfter(now);
      const series = await queryUsage(db, { from, to, tz, groupBy: [granularity, "model"] });
      const chart = timeSeriesChart(c.get("palette"), series, granularity, "model", metric, periodLabels(granularity, from, to, tz), granularity === "hour" || metric === "latency" ? "line" : "bar");
      // The table is the chart's report added up by model: same numbers as a [model] read, half the work.
      const byModel = regroup(series, "model");
      props = { query, chart, byModel, error: null };
    } catch (err) {
      if (!(err instanceof TimeError)) throw err;
      // htmx swaps only 2xx answers: a fragment carries its error as content instead.
      if (!wantsFragment(c)) c.status(400);
      props = { query, chart: null, byModel: null, error: err.message };
    }
    if (wantsFragment(c)) return renderFragment(c, <UsageReportView {...props} />);
    return c.render(<UsagePage {...props} />, { title: "Usage", nav: "usage" });
  });
  return app;
}
