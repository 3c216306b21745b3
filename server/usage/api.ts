import { createRoute, z } from "@hono/zod-openapi";
import type { AppDeps } from "../app.ts";
import { usageCsvResponse } from "./usage-csv.ts";
import { listKeyNames } from "../keys/key-names-store.ts";
import { usageJson, usageJsonSchema } from "./usage-json.ts";
import { tzParam, usageQuery } from "./query-params.ts";
import { queryUsage, type UsageParams } from "./usage-query.ts";
import { SUMMARY_PERIODS, usageSummary, usageSummaryJsonSchema } from "./usage-summary.ts";
import { strictQuery, timeParam } from "../validation.ts";
import { apiRouter, errors, json } from "../api/openapi.ts";

/** GET /api/usage, /api/usage.csv and /api/usage/summary (mounted at /api). */
export function usageRoutes({ db, clock, config }: Pick<AppDeps, "db" | "clock" | "config">) {
  const query = usageQuery(config.REPORT_TZ, () => clock.now());

  // A TimeError here is too many calendar periods for the range (time.ts bounds them).
  const report = (params: UsageParams) => timeParam("group_by", async () => usageJson(await queryUsage(db, params)));

  const usage = createRoute({
    method: "get",
    path: "/usage",
    summary: "Spend and usage for a range, broken down by up to two keys",
    request: { query },
    responses: { 200: json(usageJsonSchema, "Rows (top 20 by cost plus one \"(other)\") and totals"), ...errors() },
  });

  const usageCsvRoute = createRoute({
    method: "get",
    path: "/usage.csv",
    summary: "The same query as /usage, as CSV",
    request: { query },
    responses: {
      200: {
        description: "RFC 4180 CSV with a header row; cells starting with = + - @ neutralised",
        content: { "text/csv": { schema: z.string() } },
      },
      ...errors(),
    },
  });

  const summary = createRoute({
    method: "get",
    path: "/usage/summary",
    summary: "The current period to date, the previous one and a projection",
    request: {
      query: strictQuery({
        period: z
          .enum(SUMMARY_PERIODS, { error: `must be one of ${SUMMARY_PERIODS.join(", ")}` })
          .optional()
          .default("month"),
        tz: tzParam,
      }),
    },
    responses: { 200: json(usageSummaryJsonSchema, "Spend this period and last"), ...errors() },
  });

  return apiRouter()
    .openapi(usage, async (c) => c.json(await report(c.req.valid("query")), 200))
    .openapi(usageCsvRoute, async (c) => usageCsvResponse(c, await report(c.req.valid("query")), await listKeyNames(db)))
    .openapi(summary, async (c) => {
      const { period, tz } = c.req.valid("query");
      return c.json(await usageSummary(db, period, tz ?? config.REPORT_TZ, clock.now()), 200);
    });
}
