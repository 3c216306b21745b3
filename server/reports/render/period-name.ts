import { nextPeriodStart, startOf } from "../../time.ts";
import { PERIOD_UNIT, type ReportPeriod, type ReportRange } from "../schedule.ts";

// How an email names its period, in the schedule's zone: "Nov 2026", "Tue 3 Nov 2026",
// "week of 2 Nov 2026", or both ends for a hand-picked range. Display only: the instants come
// from schedule.ts / time.ts; Intl just prints them in the zone.

const fmt = (tz: string, opts: Intl.DateTimeFormatOptions) => new Intl.DateTimeFormat("en-GB", { timeZone: tz, ...opts });

export interface PeriodNames {
  /** For the subject and heading. */
  title: string;
  /** What the comparison is against, short: "Oct", "previous day", "previous period". */
  previous: string;
  /** Both ends with times and the zone, for the small print. */
  span: string;
}

/** True when the range is exactly one calendar period of the schedule (not a hand-picked range). */
export function isCalendarPeriod(period: ReportPeriod, range: ReportRange, tz: string): boolean {
  const unit = PERIOD_UNIT[period];
  return startOf(unit, range.start, tz) === range.start && nextPeriodStart(unit, range.start, tz) === range.end;
}

export function periodNames(period: ReportPeriod, range: ReportRange, tz: string): PeriodNames {
  const dateTime = fmt(tz, { day: "numeric", month: "short", year: "numeric", hour: "2-digit", minute: "2-digit", hourCycle: "h23" });
  const span = `${dateTime.format(range.start)} – ${dateTime.format(range.end)} (${tz})`;
  if (!isCalendarPeriod(period, range, tz)) {
    return { title: `${dateTime.format(range.start)} – ${dateTime.format(range.end)}`, previous: "previous period", span };
  }
  switch (period) {
    case "daily":
      // en-GB writes "Fri, 6 Nov 2026"; the comma reads oddly in "Spend report Fri, 6 Nov 2026: …".
      return { title: fmt(tz, { weekday: "short", day: "numeric", month: "short", year: "numeric" }).format(range.start).replace(",", ""), previous: "previous day", span };
    case "weekly":
      return { title: `week of ${fmt(tz, { day: "numeric", month: "short", year: "numeric" }).format(range.start)}`, previous: "previous week", span };
    case "monthly": {
      // The month before, by the calendar of the zone: the day before this month's first day.
      const before = range.start - 1;
      const sameYear = fmt(tz, { year: "numeric" }).format(before) === fmt(tz, { year: "numeric" }).format(range.start);
      return {
        title: fmt(tz, { month: "short", year: "numeric" }).format(range.start),
        previous: fmt(tz, sameYear ? { month: "short" } : { month: "short", year: "numeric" }).format(before),
        span,
      };
    }
  }
}

/** "3 Nov, 14:05" in the schedule's zone, for first/last-seen columns. */
export function shortLocalTime(ms: number, tz: string): string {
  return fmt(tz, { day: "numeric", month: "short", hour: "2-digit", minute: "2-digit", hourCycle: "h23" }).format(ms);
}
