import { atLocalTime, nextPeriodStart, previousPeriodStart, startOf, type CalendarUnit } from "../time.ts";

// When a report is due: pure functions of a schedule's timing and "now". All calendar math is in
// server/time.ts; this file only decides which period is meant and when its email goes out.

export const REPORT_PERIODS = ["daily", "weekly", "monthly"] as const;
export type ReportPeriod = (typeof REPORT_PERIODS)[number];

/** daily → a local day, weekly → an ISO week (Monday to Sunday), monthly → a calendar month. */
export const PERIOD_UNIT: Record<ReportPeriod, Extract<CalendarUnit, "day" | "week" | "month">> = {
  daily: "day",
  weekly: "week",
  monthly: "month",
};

/**
 * After downtime, at most this many missed periods are still sent (newest first); older ones are
 * recorded as skipped. A daily report three days late is useful; thirty of them are spam.
 */
export const CATCH_UP_PERIODS = 3;
/** How far back past the catch-up window a tick looks for missed periods to mark as skipped. */
const SKIP_SCAN_PERIODS = 60;

export interface ScheduleTiming {
  period: ReportPeriod;
  /** "HH:MM", local time in `timezone`. */
  sendAt: string;
  timezone: string;
}

export interface ReportRange {
  start: number;
  end: number;
}

export interface DuePeriod extends ReportRange {
  sendTime: number;
}

function parseSendAt(sendAt: string): { hour: number; minute: number } {
  const m = /^([01]\d|2[0-3]):([0-5]\d)$/.exec(sendAt);
  if (!m) throw new Error(`send_at must be HH:MM, got "${sendAt}"`);
  return { hour: Number(m[1]), minute: Number(m[2]) };
}

/** The last period that has ended at or before `now`, in the schedule's zone. */
export function lastCompletePeriod(t: ScheduleTiming, now: number): ReportRange {
  const unit = PERIOD_UNIT[t.period];
  return { start: previousPeriodStart(unit, now, t.timezone), end: startOf(unit, now, t.timezone) };
}

/** The period before `range` (the comparison baseline of a spend report). */
export function previousPeriod(t: ScheduleTiming, range: ReportRange): ReportRange {
  const unit = PERIOD_UNIT[t.period];
  return { start: startOf(unit, range.start - 1, t.timezone), end: range.start };
}

/** When the email for a period goes out: send_at on the local date on which the period ends. */
export function sendTimeOf(t: ScheduleTiming, range: ReportRange): number {
  const { hour, minute } = parseSendAt(t.sendAt);
  return atLocalTime(range.end, hour, minute, t.timezone);
}

/** The next send time after `now` (what /api/reports shows as next_run_at). */
export function nextRunAt(t: ScheduleTiming, now: number): number {
  const last = lastCompletePeriod(t, now);
  const lastSend = sendTimeOf(t, last);
  if (lastSend > now) return lastSend;
  const unit = PERIOD_UNIT[t.period];
  return sendTimeOf(t, { start: last.end, end: nextPeriodStart(unit, last.end, t.timezone) });
}

/**
 * Complete periods whose send time has passed and came after `activeFrom` (the schedule did not
 * exist, or was off, before that), newest first, at most CATCH_UP_PERIODS. The caller drops
 * those that already have a delivery.
 */
export function periodsDue(t: ScheduleTiming, activeFrom: number, now: number): DuePeriod[] {
  const due: DuePeriod[] = [];
  // The last complete period may not be due yet (its send time is later today): one extra step.
  let range = lastCompletePeriod(t, now);
  for (let i = 0; i <= CATCH_UP_PERIODS && due.length < CATCH_UP_PERIODS; i++) {
    const sendTime = sendTimeOf(t, range);
    if (sendTime < activeFrom) break;
    if (sendTime <= now) due.push({ ...range, sendTime });
    range = previousPeriod(t, range);
  }
  return due;
}

/**
 * Missed periods older than the catch-up window (before `oldestDue`), newest first, at most
 * SKIP_SCAN_PERIODS and none from before `activeFrom`. Only needed after downtime: while the
 * oldest due period already has a delivery, nothing older can be missing one.
 */
export function periodsTooOld(t: ScheduleTiming, activeFrom: number, oldestDue: ReportRange): DuePeriod[] {
  const out: DuePeriod[] = [];
  for (let range = previousPeriod(t, oldestDue); out.length < SKIP_SCAN_PERIODS; range = previousPeriod(t, range)) {
    const sendTime = sendTimeOf(t, range);
    if (sendTime < activeFrom) break;
    out.push({ ...range, sendTime });
  }
  return out;
}
