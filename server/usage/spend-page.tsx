import { Hono } from "hono";
import type { AppDeps } from "../app.ts";
import { barsChart, stackedChart, timeSeriesChart } from "./chart-spec.ts";
import { periodLabels } from "./period-labels.ts";
import { PERIOD_PRESETS, dayRangeLabel, spendPeriod, type PeriodPreset } from "./spend-period.ts";
import { csvResponse } from "./usage-csv.ts";
import { csvFileName } from "./csv-file-name.ts";
import { spendCsv } from "./spend-csv.ts";
import { querySpendComparison } from "./spend-comparison.ts";
import { ApiError } from "../errors.ts";
import { usageJson } from "./usage-json.ts";
import { parseUsageParams } from "./query-params.ts";
import { timeParam } from "../validation.ts";
import { isCalendarUnit, queryUsage, type GroupKey } from "./usage-query.ts";
import { TimeError, assertTimeZone, isValidTimeZone, periodLabel, startOf, toIso } from "../time.ts";
import { SpendPage, SpendReport, type SpendQuery, type SpendResult } from "../../views/usage/spend.tsx";
import { GROUP_LABELS, THEN_LABELS } from "./spend-groups.ts";
import { wantsFragment, type PageEnv, renderFragment } from "../pages/page-env.tsx";

/** ?compare_from&compare_to of the spend CSV: both ISO instants, from before to. */
function comparisonRange(from: string | undefined, to: string | undefined): { from: number; to: number } {
  const instant = (name: string, v: string | undefined) => {
    if (v === undefined || !/^\d{4}-\d{2}-\d{2}T[^\s]*Z$/.test(v) || Number.isNaN(Date.parse(v))) {
      throw new ApiError({ status: 400, type: "invalid_request_error", code: "invalid_parameter", message: `${name}: expected an ISO instant ending in Z (give both compare_from and compare_to)` });
    }
    return Date.parse(v);
  };
  const range = { from: instant("compare_from", from), to: instant("compare_to", to) };
  if (range.from >= range.to) throw new ApiError({ status: 400, type: "invalid_request_error", code: "invalid_parameter", message: "compare_to: must be later than compare_from" });
  return range;
}

/**
 * GET /spend (finance breakdowns) and GET /spend/export.csv: /api/usage.csv's rows for the
 * session, plus the table's Total row and, with ?compare_from&compare_to, Previous and Change.
 */
export function spendPages({ db, clock, config }: Pick<AppDeps, "db" | "clock" | "config">): Hono<PageEnv> {
  const app = new Hono<PageEnv>();

  app.get("/spend", async (c) => {
    const q = c.req.query();
    const label = (options: Array<[string, string]>, v: string) => options.find(([k]) => k === v)?.[1] ?? v;
    const by = GROUP_LABELS.some(([k]) => k === q.by) ? q.by! : "model";
    const then = THEN_LABELS.some(([k]) => k === q.then) && q.then !== by ? q.then! : "";
    const query: SpendQuery = {
      period: (PERIOD_PRESETS as readonly string[]).includes(q.period ?? "") ? (q.period as PeriodPreset) : "this-month",
      from: q.from ?? "",
      to: q.to ?? "",
      tz: q.tz?.trim() || config.REPORT_TZ,
      by,
      then,
      // Absent (a first visit) means on; the form sends compare=0 and, when ticked, compare=1.
      compare: c.req.queries("compare")?.includes("1") ?? true,
    };

    // The page's zone is the one its form chose: its timestamps follow its figures.
    if (isValidTimeZone(query.tz)) c.set("tz", query.tz);
    let result: SpendResult | null = null;
    let error: string | null = null;
    try {
      assertTimeZone(query.tz);
      const p = spendPeriod(query.period, clock.now(), query.tz, { from: query.from, to: query.to });
      // The date boxes show the period on screen, so "Custom dates" starts from it (not from empty boxes and an error).
      if (query.period !== "custom" || query.from === "") query.from = periodLabel("day", p.from, query.tz);
      if (query.period !== "custom" || query.to === "") query.to = periodLabel("day", startOf("day", p.to - 1, query.tz), query.tz);
      const groupBy = [by, then].filter((k) => k !== "") as GroupKey[];
      const report = await queryUsage(db, { from: p.from, to: p.to, tz: query.tz, groupBy });
      const previous = query.compare ? await querySpendComparison(db, { from: p.previousFrom, to: p.previousTo }, query.tz, groupBy) : null;
      const chart =
        then === ""
          ? barsChart(c.get("palette"), report, by, "cost", "Cost")
          : isCalendarUnit(then as GroupKey)
            ? timeSeriesChart(c.get("palette"), report, then, by, "cost", periodLabels(then as "day", p.from, p.to, query.tz), "bar")
            : stackedChart(c.get("palette"), report, by, then, "cost");
      const apiQuery = new URLSearchParams({ from: toIso(p.from), to: toIso(p.to), tz: query.tz, group_by: groupBy.join(",") }).toString();
      // The download adds the comparison the table shows (Previous, Change), when it shows one.
      const compareQuery = previous ? `&${new URLSearchParams({ compare_from: toIso(p.previousFrom), compare_to: toIso(p.previousTo) })}` : "";
      result = {
        ...p,
        label: dayRangeLabel(p.from, p.to, query.tz),
        previousLabel: dayRangeLabel(p.previousFrom, p.previousTo, query.tz),
        toDate: p.to > clock.now(),
        columns: groupBy.map((k) => ({ key: k, label: label(THEN_LABELS, k) })),
        report,
        previous,
        chart,
        csvHref: `/spend/export.csv?${apiQuery}${compareQuery}`,
        apiQuery,
      };
    } catch (err) {
      if (!(err instanceof TimeError)) throw err;
      // htmx swaps only 2xx answers: a fragment carries its error as content instead.
      if (!wantsFragment(c)) c.status(400);
      error = err.message;
    }
    if (wantsFragment(c)) return renderFragment(c, <SpendReport query={query} result={result} error={error} />);
    return c.render(<SpendPage query={query} result={result} error={error} />, { title: "Spend", nav: "spend" });
  });

  // The dashboard's CSV link: /api/usage.csv's parameters and bytes, authorised by the session
  // cookie instead of the Bearer token (a download link cannot carry a header).
  app.get("/spend/export.csv", async (c) => {
    const { compare_from, compare_to, ...rest } = c.req.query();
    const params = parseUsageParams(rest, config.REPORT_TZ, clock.now());
    const report = await timeParam("group_by", () => queryUsage(db, params));
    const compare = compare_from !== undefined || compare_to !== undefined ? comparisonRange(compare_from, compare_to) : null;
    const previous = compare ? await querySpendComparison(db, compare, params.tz, params.groupBy) : null;
    return csvResponse(c, spendCsv(report, previous, c.get("keyNames")), csvFileName("spend", usageJson(report)));
  });

  return app;
}

