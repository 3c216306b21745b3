import { nextPeriodStart, startOf, type CalendarUnit } from "../time.ts";

// A budget's period is a calendar day, ISO week (from Monday) or month in its IANA zone, the same
// calendar as the spend pages (time.ts), so a DST day is 23 or 25 hours long.

export type BudgetPeriod = "daily" | "weekly" | "monthly";

const UNIT: Record<BudgetPeriod, CalendarUnit> = { daily: "day", weekly: "week", monthly: "month" };

/** [start, end) of the period containing `at`. */
export function periodBounds(period: BudgetPeriod, tz: string, at: number): { start: number; end: number } {
  const start = startOf(UNIT[period], at, tz);
  return { start, end: nextPeriodStart(UNIT[period], start, tz) };
}
