import { Hono } from "hono";
import type { AppDeps } from "../../app.ts";
import { usageCsvResponse } from "../../spend/usage-csv.ts";
import { usageJson } from "../../spend/usage-json.ts";
import { badParam, parseTz, rejectUnknownParams, parseUsageParams, timeParam } from "../../spend/query-params.ts";
import { queryUsage, type UsageParams } from "../../spend/usage-query.ts";
import { SUMMARY_PERIODS, usageSummary, type SummaryPeriod } from "../../spend/usage-summary.ts";

/** GET /api/usage, /api/usage.csv and /api/usage/summary (mounted at /api). */
export function usageRoutes({ db, clock, config }: Pick<AppDeps, "db" | "clock" | "config">): Hono {
  const app = new Hono();

  // A TimeError here is too many calendar periods for the range (time.ts bounds them).
  const report = (params: UsageParams) => timeParam("group_by", () => usageJson(queryUsage(db, params)));

  app.get("/usage", (c) => c.json(report(parseUsageParams(c.req.query(), config.REPORT_TZ, clock.now()))));

  app.get("/usage.csv", (c) => usageCsvResponse(c, report(parseUsageParams(c.req.query(), config.REPORT_TZ, clock.now()))));

  app.get("/usage/summary", (c) => {
    const query = c.req.query();
    rejectUnknownParams(query, ["period", "tz"]);
    const period = (query.period ?? "month") as SummaryPeriod;
    if (!SUMMARY_PERIODS.includes(period)) throw badParam("period", `must be one of ${SUMMARY_PERIODS.join(", ")}`);
    return c.json(usageSummary(db, period, parseTz(query, config.REPORT_TZ), clock.now()));
  });

  return app;
}
