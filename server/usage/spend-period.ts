import { TimeError, nextPeriodStart, parseInstant, periodLabel, startOf } from "../time.ts";

// The spend page's period picker: calendar presets in a time zone, or custom dates, and the
// period to compare with. All calendar math goes through time.ts (DST-safe, any IANA zone).

export const PERIOD_PRESETS = ["this-month", "last-month", "this-quarter", "last-quarter", "custom"] as const;
export type PeriodPreset = (typeof PERIOD_PRESETS)[number];

export interface SpendPeriod {
  preset: PeriodPreset;
  from: number;
  /** Exclusive. */
  to: number;
  previousFrom: number;
  previousTo: number;
}

function quarterStart(ms: number, tz: string): number {
  let start = startOf("month", ms, tz);
  const month = Number(periodLabel("month", start, tz).slice(5, 7));
  for (let i = 0; i < (month - 1) % 3; i++) start = startOf("month", start - 1, tz);
  return start;
}

function plusMonths(start: number, months: number, tz: string): number {
  let t = start;
  for (let i = 0; i < months; i++) t = nextPeriodStart("month", t, tz);
  return t;
}

/**
 * [from, to) of a preset, or of custom dates (YYYY-MM-DD, `to` inclusive as a date picker means
 * it). The previous period is the calendar one before, or for custom dates the span of equal
 * length just before `from`.
 */
export function spendPeriod(preset: PeriodPreset, now: number, tz: string, custom: { from?: string; to?: string }): SpendPeriod {
  switch (preset) {
    case "this-month":
    case "last-month": {
      const current = startOf("month", now, tz);
      const from = preset === "this-month" ? current : startOf("month", current - 1, tz);
      const previousFrom = startOf("month", from - 1, tz);
      return { preset, from, to: nextPeriodStart("month", from, tz), previousFrom, previousTo: from };
    }
    case "this-quarter":
    case "last-quarter": {
      const current = quarterStart(now, tz);
      const from = preset === "this-quarter" ? current : quarterStart(current - 1, tz);
      return { preset, from, to: plusMonths(from, 3, tz), previousFrom: quarterStart(from - 1, tz), previousTo: from };
    }
    case "custom": {
      if (!custom.from || !custom.to) throw new TimeError("custom period: choose both a start and an end date");
      const dateOnly = /^\d{4}-\d{2}-\d{2}$/;
      if (!dateOnly.test(custom.from) || !dateOnly.test(custom.to)) throw new TimeError("custom period: dates must look like 2025-03-01");
      const from = parseInstant(custom.from, tz);
      const to = nextPeriodStart("day", parseInstant(custom.to, tz), tz);
      if (from >= to) throw new TimeError("custom period: the end date must not be before the start date");
      return { preset, from, to, previousFrom: from - (to - from), previousTo: from };
    }
  }
}

/** "2025-03-01 – 2025-03-31": the first and last calendar day of [from, to) in `tz`. */
export function dayRangeLabel(from: number, to: number, tz: string): string {
  const first = periodLabel("day", startOf("day", from, tz), tz);
  const last = periodLabel("day", startOf("day", to - 1, tz), tz);
  return first === last ? first : `${first} – ${last}`;
}
