import { DateTime, IANAZone } from "luxon";

// The only place with UTC offsets and calendar math. Instants are integer epoch ms (UTC);
// calendar periods are computed in an IANA zone with luxon, which reads the runtime's tz data,
// so DST days have 23 or 25 hours and +05:30 / +05:45 zones start their days mid-hour.

export class TimeError extends Error {}

/**
 * Rollup bucket width. Every UTC offset in use today is a multiple of 15 minutes (+05:45 and
 * +12:45 included), so any whole hour, day, week or month in any zone is a union of buckets.
 */
export const BUCKET_MS = 15 * 60_000;
/** Coarser rollup widths: whole UTC hours and whole UTC days (the epoch starts at a UTC midnight). */
export const HOUR_MS = 3_600_000;
export const DAY_MS = 86_400_000;

export const CALENDAR_UNITS = ["hour", "day", "week", "month"] as const;
export type CalendarUnit = (typeof CALENDAR_UNITS)[number];

export function isValidTimeZone(tz: string): boolean {
  return IANAZone.isValidZone(tz);
}

/** The one time-zone check: every caller (query strings, pages, config) names the same zones. */
export function assertTimeZone(tz: string): string {
  if (!isValidTimeZone(tz)) throw new TimeError(`unknown IANA time zone "${tz.slice(0, 60)}" (e.g. Europe/London, America/New_York, UTC)`);
  return tz;
}

const DATE_ONLY = /^\d{4}-\d{2}-\d{2}$/;
// An instant must say where it is: Z or a ±HH:MM offset. Seconds optional, and up to nine
// fraction digits (luxon keeps milliseconds); RFC 3339 lets T and Z be lower case.
const INSTANT = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?(?:Z|[+-]\d{2}:\d{2})$/i;

/**
 * Strict ISO 8601: an instant with Z or an offset, or a bare YYYY-MM-DD meaning local midnight
 * in `tz` (so `from=2025-03-01&tz=Asia/Kolkata` is 2025-02-28T18:30Z). Anything else throws.
 * Callers whose inputs have no zone (/api/requests, the explorer) pass "UTC".
 */
export function parseInstant(text: string, tz: string): number {
  let dt: DateTime;
  if (DATE_ONLY.test(text)) dt = DateTime.fromISO(text, { zone: assertTimeZone(tz) }).startOf("day");
  else if (INSTANT.test(text)) dt = DateTime.fromISO(text, { setZone: true });
  else throw new TimeError(`"${text.slice(0, 40)}" is not an ISO 8601 instant (2025-03-01T00:00:00Z, …+01:00) or date (2025-03-01)`);
  if (!dt.isValid) throw new TimeError(`"${text.slice(0, 40)}" is not a valid date or time`);
  return dt.toMillis();
}

export function toIso(ms: number): string {
  return new Date(ms).toISOString();
}

export function floorToBucket(ms: number): number {
  return floorTo(ms, BUCKET_MS);
}

/** `ms` rounded down to a multiple of `width`. */
export function floorTo(ms: number, width: number): number {
  return ms - (((ms % width) + width) % width);
}

/** `ms` rounded up to a multiple of `width`, capped at Number.MAX_SAFE_INTEGER ("until the end"). */
export function ceilTo(ms: number, width: number): number {
  const floor = floorTo(ms, width);
  return floor === ms ? ms : Math.min(floor + width, Number.MAX_SAFE_INTEGER);
}

/** One piece of a range: whole buckets of one width, [start, end). */
export interface WidthPiece {
  width: number;
  start: number;
  end: number;
}

/**
 * Split [from, to) into pieces of whole buckets, each as coarse as it can be: a head of the
 * finest width up to the first boundary of the next width, the middle split the same way one
 * width up, and a tail of the finest width after the last boundary. `widths` ascend, each a
 * multiple of the one before; from and to are multiples of the first. With 15 min / 1 h / 1 d,
 * a local day in Asia/Kolkata (18:30Z → 18:30Z) is 2 buckets, 23 hours and 2 buckets: 27 rows per
 * value instead of 96.
 */
export function splitByWidths(from: number, to: number, widths: readonly number[]): WidthPiece[] {
  const [finest, next] = widths;
  if (finest === undefined || from >= to) return [];
  const first = next === undefined ? to : ceilTo(from, next);
  const last = next === undefined ? to : floorTo(to, next);
  if (first >= last) return [{ width: finest, start: from, end: to }];
  return [
    ...(from < first ? [{ width: finest, start: from, end: first }] : []),
    ...splitByWidths(first, last, widths.slice(1)),
    ...(last < to ? [{ width: finest, start: last, end: to }] : []),
  ];
}

/** End of the bucket that contains `ms`: a range [x, bucketEndAfter(now)) includes `now`. */
export function bucketEndAfter(ms: number): number {
  return floorToBucket(ms) + BUCKET_MS;
}

/** Start of the hour/day/ISO week (Monday)/month containing `ms`, in `tz`. */
export function startOf(unit: CalendarUnit, ms: number, tz: string): number {
  return DateTime.fromMillis(ms, { zone: tz }).startOf(unit).toMillis();
}

/** Start of the period after the one starting at `start` (wall-clock arithmetic across DST). */
export function nextPeriodStart(unit: CalendarUnit, start: number, tz: string): number {
  const dt = DateTime.fromMillis(start, { zone: tz });
  // An hour is always 60 real minutes, even when the wall clock jumps; the others are wall-clock.
  if (unit === "hour") return DateTime.fromMillis(start + 3_600_000, { zone: tz }).startOf("hour").toMillis();
  const step = unit === "day" ? { days: 1 } : unit === "week" ? { weeks: 1 } : { months: 1 };
  return dt.plus(step).startOf(unit).toMillis();
}

/** Start of the period before the one containing `ms`. */
export function previousPeriodStart(unit: CalendarUnit, ms: number, tz: string): number {
  const start = startOf(unit, ms, tz);
  return startOf(unit, start - 1, tz);
}

/**
 * Label of the period starting at `start`: day "2025-03-30", week "2025-03-24" (its Monday),
 * month "2025-03", hour "2025-10-26T01:00+01:00" (with the offset: on a 25-hour day the local
 * hour 01:00 happens twice).
 */
export function periodLabel(unit: CalendarUnit, start: number, tz: string): string {
  const dt = DateTime.fromMillis(start, { zone: tz });
  switch (unit) {
    case "hour":
      return dt.toFormat("yyyy-MM-dd'T'HH:mmZZ");
    case "day":
    case "week":
      return dt.toFormat("yyyy-MM-dd");
    case "month":
      return dt.toFormat("yyyy-MM");
  }
}

export interface Period {
  start: number;
  end: number;
  /** null when the range is not split by calendar. */
  label: string | null;
}

/**
 * The calendar periods of `unit` in `tz` that overlap [from, to), clipped to it (a partial first
 * or last period keeps the label of the whole period). Without a unit: the one period [from, to).
 */
export function periodsBetween(unit: CalendarUnit | null, from: number, to: number, tz: string, max: number): Period[] {
  if (unit === null) return [{ start: from, end: to, label: null }];
  if (unit === "hour") return hoursBetween(from, to, tz, max);
  const out: Period[] = [];
  for (let start = startOf(unit, from, tz); start < to; ) {
    const end = nextPeriodStart(unit, start, tz);
    if (out.length >= max) throw new TimeError(`more than ${max} ${unit} periods in the range; choose a shorter range or a coarser unit`);
    out.push({ start: Math.max(start, from), end: Math.min(end, to), label: periodLabel(unit, start, tz) });
    start = end;
  }
  return out;
}

/**
 * periodsBetween for hours, by arithmetic between the zone's offset changes. Through luxon every
 * hour costs several offset look-ups (Intl formatToParts, ~100 ms for the 2,160 hours of 90
 * days); here the offset is looked up every 6 hours, and once more per change to find its
 * instant, and a whole local hour without a change in (start, start + 1 h] is start + 1 h with
 * a label formatted from its offset. Any other takes the luxon path, so both give the same
 * periods (test/time.test.ts compares them).
 */
function hoursBetween(from: number, to: number, tz: string, max: number): Period[] {
  const changes = offsetChanges(IANAZone.create(tz), from - HOUR_MS, to + HOUR_MS);
  const out: Period[] = [];
  let c = 0; // changes[c - 1] is the last change at or before start
  for (let start = startOf("hour", from, tz); start < to; ) {
    if (out.length >= max) throw new TimeError(`more than ${max} hour periods in the range; choose a shorter range or a coarser unit`);
    while (c < changes.length && changes[c]!.at <= start) c++;
    const offset = c > 0 ? changes[c - 1]!.offset : changes.initial;
    // Arithmetic only for a whole local hour with no change in it or at its end; a change of
    // 30 or 45 minutes leaves luxon's next "hour" starting mid-hour (Lord Howe), which it handles.
    const slow = (c < changes.length && changes[c]!.at <= start + HOUR_MS) || (start + offset * 60_000) % HOUR_MS !== 0;
    const end = slow ? nextPeriodStart("hour", start, tz) : start + HOUR_MS;
    out.push({ start: Math.max(start, from), end: Math.min(end, to), label: slow ? periodLabel("hour", start, tz) : hourLabel(start, offset) });
    start = end;
  }
  return out;
}

/** The offset (minutes) at `a` and each instant in (a, b] where it changes, with the new offset. */
function offsetChanges(zone: IANAZone, a: number, b: number): { at: number; offset: number }[] & { initial: number } {
  const STEP = 6 * HOUR_MS; // no zone changes its offset twice within 6 hours
  const changes: { at: number; offset: number }[] = [];
  let t = a;
  let offset = zone.offset(t);
  const initial = offset;
  while (t < b) {
    const next = Math.min(t + STEP, b);
    const nextOffset = zone.offset(next);
    if (nextOffset !== offset) {
      // The first millisecond with the new offset, in (t, next].
      let lo = t;
      let hi = next;
      while (hi - lo > 1) {
        const mid = Math.floor((lo + hi) / 2);
        if (zone.offset(mid) === offset) lo = mid;
        else hi = mid;
      }
      changes.push({ at: hi, offset: nextOffset });
      offset = nextOffset;
    }
    t = next;
  }
  return Object.assign(changes, { initial });
}

/** periodLabel("hour") from the offset in force: "2025-10-26T01:00+01:00". */
function hourLabel(start: number, offsetMinutes: number): string {
  const local = new Date(start + offsetMinutes * 60_000);
  const two = (n: number) => String(n).padStart(2, "0");
  const abs = Math.abs(offsetMinutes);
  return (
    `${String(local.getUTCFullYear()).padStart(4, "0")}-${two(local.getUTCMonth() + 1)}-${two(local.getUTCDate())}` +
    `T${two(local.getUTCHours())}:${two(local.getUTCMinutes())}${offsetMinutes < 0 ? "-" : "+"}${two(Math.floor(abs / 60))}:${two(abs % 60)}`
  );
}

/**
 * The instant at wall-clock hh:mm in `tz` on the local date that contains `ms` (scheduled
 * reports: "09:00 on the 1st"). Luxon alone resolves an ambiguous wall time differently in
 * fromObject and set, so both DST cases are decided here:
 * - overlap (01:30 twice on a fall-back day): the first occurrence;
 * - gap (02:30 does not exist on a spring-forward day in New York): moved forward by the length
 *   of the gap (03:30 EDT), which is what cron daemons do.
 */
export function atLocalTime(ms: number, hour: number, minute: number, tz: string): number {
  const day = DateTime.fromMillis(ms, { zone: tz });
  const wall = Date.UTC(day.year, day.month - 1, day.day, hour, minute);
  const zone = IANAZone.create(tz);
  // Offsets in force half a day either side cover any one transition on that date.
  const offsets = [zone.offset(wall - 43_200_000), zone.offset(wall + 43_200_000)];
  const valid = offsets.map((o) => wall - o * 60_000).filter((t) => wall - zone.offset(t) * 60_000 === t);
  if (valid.length > 0) return Math.min(...valid);
  return wall - offsets[0]! * 60_000;
}
