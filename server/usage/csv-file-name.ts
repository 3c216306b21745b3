import { DateTime } from "luxon";
import type { UsageJson } from "./usage-json.ts";

// A CSV download is named after what it holds, so a folder of exports reads as a list:
// spend-by-team-and-model-2026-11.csv, usage-by-day-2026-11-01-to-2026-11-19.csv. A whole calendar
// month in the answer's zone is written as the month; any other range as its first and last day.

export function csvFileName(prefix: "spend" | "usage", report: Pick<UsageJson, "group_by" | "from" | "to" | "tz">): string {
  const by = report.group_by.length > 0 ? `by-${report.group_by.join("-and-")}` : "total";
  const from = DateTime.fromISO(report.from, { zone: report.tz });
  const to = DateTime.fromISO(report.to, { zone: report.tz });
  const wholeMonth = from.equals(from.startOf("month")) && to.equals(from.plus({ months: 1 }));
  const range = wholeMonth ? from.toFormat("yyyy-LL") : `${from.toFormat("yyyy-LL-dd")}-to-${to.minus({ milliseconds: 1 }).toFormat("yyyy-LL-dd")}`;
  // Group names are fixed keys and dates are digits: nothing here needs quoting in the header.
  return `${prefix}-${by}-${range}.csv`;
}
