import { describe, expect, it } from "vitest";
import {
  BUCKET_MS,
  TimeError,
  bucketEndAfter,
  floorToBucket,
  isValidTimeZone,
  nextPeriodStart,
  parseInstant,
  periodLabel,
  periodsBetween,
  previousPeriodStart,
  startOf,
  type CalendarUnit,
} from "../server/time.ts";

const ms = (iso: string) => Date.parse(iso);
const HOUR = 3_600_000;

describe("ISO parsing is strict", () => {
  it.each([
    ["2025-03-01T00:00:00Z", "UTC", "2025-03-01T00:00:00.000Z"],
    ["2025-03-01T00:00Z", "UTC", "2025-03-01T00:00:00.000Z"],
    ["2025-03-01T05:30:00.250+05:30", "UTC", "2025-03-01T00:00:00.250Z"],
    ["2025-03-01T00:00:00-05:00", "Asia/Tokyo", "2025-03-01T05:00:00.000Z"],
    // RFC 3339 allows lower-case t and z; nanoseconds are cut to milliseconds.
    ["2025-03-01t00:00:00z", "UTC", "2025-03-01T00:00:00.000Z"],
    ["2025-03-01T00:00:00.123456789Z", "UTC", "2025-03-01T00:00:00.123Z"],
    // A bare date is local midnight in the zone given.
    ["2025-03-01", "UTC", "2025-03-01T00:00:00.000Z"],
    ["2025-03-01", "Asia/Kolkata", "2025-02-28T18:30:00.000Z"],
    ["2025-03-01", "Asia/Kathmandu", "2025-02-28T18:15:00.000Z"],
    ["2025-03-30", "Europe/London", "2025-03-30T00:00:00.000Z"],
    ["2025-07-01", "Europe/London", "2025-06-30T23:00:00.000Z"],
    ["2025-11-02", "America/New_York", "2025-11-02T04:00:00.000Z"],
  ])("%s in %s is %s", (text, tz, iso) => {
    expect(new Date(parseInstant(text, tz)).toISOString()).toBe(iso);
  });

  it.each([
    "2025-03-01T00:00:00", // no zone: ambiguous
    "2025-03-01 00:00:00Z",
    "2025-3-1",
    "2025-02-30",
    "2025-13-01T00:00:00Z",
    "2025-03-01T24:30:00Z",
    "1709251200000",
    "2025-03-01T00:00:00+0100",
    "2025-03-01T00:00:00.1234567891Z",
    "",
    "yesterday",
  ])("rejects %j", (text) => {
    expect(() => parseInstant(text, "UTC")).toThrow(TimeError);
  });

  it("validates IANA zones", () => {
    for (const tz of ["UTC", "Europe/London", "America/New_York", "Asia/Kolkata", "Asia/Kathmandu"]) expect(isValidTimeZone(tz)).toBe(true);
    for (const tz of ["Mars/Olympus", "", "GMT+25", "Europe/Londn"]) expect(isValidTimeZone(tz)).toBe(false);
    expect(() => parseInstant("2025-03-01", "Mars/Olympus")).toThrow(TimeError);
  });
});

describe("calendar periods follow the zone (DST days, half-hour offsets)", () => {
  it.each([
    // tz, local date, hours in that day
    ["Europe/London", "2025-03-30", 23],
    ["Europe/London", "2025-10-26", 25],
    ["Europe/London", "2025-06-15", 24],
    ["America/New_York", "2025-03-09", 23],
    ["America/New_York", "2025-11-02", 25],
    ["Asia/Kolkata", "2025-03-30", 24],
    ["Asia/Kathmandu", "2025-03-30", 24],
    ["UTC", "2025-03-30", 24],
  ])("%s %s has %i hours", (tz, date, hours) => {
    const start = parseInstant(date, tz);
    const end = nextPeriodStart("day", start, tz);
    expect((end - start) / HOUR).toBe(hours);
    expect(periodLabel("day", start, tz)).toBe(date);
  });

  it.each([
    ["day", "2025-03-30T12:34:00Z", "Europe/London", "2025-03-30T00:00:00.000Z"],
    ["day", "2025-10-26T23:30:00Z", "Europe/London", "2025-10-25T23:00:00.000Z"], // midnight was still BST
    ["day", "2025-10-26T23:59:00Z", "America/New_York", "2025-10-26T04:00:00.000Z"],
    ["day", "2025-03-01T18:29:00Z", "Asia/Kolkata", "2025-02-28T18:30:00.000Z"],
    ["day", "2025-03-01T18:30:00Z", "Asia/Kolkata", "2025-03-01T18:30:00.000Z"],
    ["hour", "2025-03-01T18:14:59Z", "Asia/Kathmandu", "2025-03-01T17:15:00.000Z"],
    ["hour", "2025-03-01T18:29:00Z", "Asia/Kolkata", "2025-03-01T17:30:00.000Z"], // 23:59 IST
    ["week", "2025-03-30T12:00:00Z", "Europe/London", "2025-03-24T00:00:00.000Z"], // Sunday → Monday before
    ["week", "2025-03-31T00:30:00Z", "Europe/London", "2025-03-30T23:00:00.000Z"], // Monday 01:30 BST
    ["month", "2025-03-31T23:30:00Z", "Europe/London", "2025-03-31T23:00:00.000Z"], // already April in London
    ["month", "2025-03-15T00:00:00Z", "America/New_York", "2025-03-01T05:00:00.000Z"],
  ] as [CalendarUnit, string, string, string][])("start of %s containing %s in %s is %s", (unit, at, tz, iso) => {
    expect(new Date(startOf(unit, ms(at), tz)).toISOString()).toBe(iso);
  });

  it("labels hours with their offset, so the repeated 01:00 on a 25-hour day is two periods", () => {
    const tz = "Europe/London";
    const day = parseInstant("2025-10-26", tz);
    const hours = periodsBetween("hour", day, nextPeriodStart("day", day, tz), tz, 100);
    expect(hours).toHaveLength(25);
    expect(hours.slice(0, 3).map((h) => h.label)).toEqual(["2025-10-26T00:00+01:00", "2025-10-26T01:00+01:00", "2025-10-26T01:00+00:00"]);
    for (const h of hours) expect(h.end - h.start).toBe(HOUR);
  });

  it("gives the same hours as luxon hour by hour (offset changes of whole hours, 30 minutes, at :45 offsets, and negative offsets)", () => {
    // periodsBetween computes hours by arithmetic between offset changes; the reference walks
    // them with luxon (startOf, nextPeriodStart, periodLabel), as it does for days and months.
    const reference = (from: number, to: number, tz: string) => {
      const out: { start: number; end: number; label: string }[] = [];
      for (let start = startOf("hour", from, tz); start < to; ) {
        const end = nextPeriodStart("hour", start, tz);
        // Lord Howe's 30-minute fall-back: luxon's next hour start is the same instant, so
        // periodsBetween has always run into its period limit there (a 400); both must agree.
        if (end <= start) throw new TimeError("no next hour");
        out.push({ start: Math.max(start, from), end: Math.min(end, to), label: periodLabel("hour", start, tz) });
        start = end;
      }
      return out;
    };
    const zones = ["UTC", "Europe/London", "America/New_York", "America/St_Johns", "Asia/Kolkata", "Asia/Kathmandu", "Australia/Lord_Howe", "Pacific/Chatham", "America/Santiago", "Africa/Casablanca"];
    const changes = ["2025-03-09", "2025-03-30", "2025-04-06", "2025-09-28", "2025-10-05", "2025-10-26", "2025-11-02", "2026-02-15", "2026-03-15"];
    let checked = 0;
    let stuck = 0;
    for (const tz of zones) {
      for (const day of changes) {
        for (const [before, after] of [[36, 36], [5, 0.25], [0.75, 7]]) {
          const from = ms(`${day}T00:00:00Z`) - Math.round(before! * 4) * BUCKET_MS;
          const to = ms(`${day}T00:00:00Z`) + Math.round(after! * 4) * BUCKET_MS;
          const context = `${tz} ${day} -${before} h +${after} h`;
          let expected: ReturnType<typeof reference> | null = null;
          try {
            expected = reference(from, to, tz);
          } catch {
            expect(() => periodsBetween("hour", from, to, tz, 2_500), context).toThrow(TimeError);
            stuck++;
          }
          if (expected) expect(periodsBetween("hour", from, to, tz, 2_500), context).toEqual(expected);
          checked++;
        }
      }
      // A 90-day range with its changes.
      const from = ms("2025-08-15T00:00:00Z");
      const to = ms("2025-11-13T00:00:00Z");
      expect(periodsBetween("hour", from, to, tz, 2_500), `${tz} 90 days`).toEqual(reference(from, to, tz));
    }
    expect(checked).toBe(zones.length * changes.length * 3);
    expect(stuck).toBe(1);
  });

  it("days of a month in a zone are contiguous, aligned to buckets and add up to the month", () => {
    for (const tz of ["Europe/London", "America/New_York", "Asia/Kolkata", "Asia/Kathmandu", "Australia/Lord_Howe"]) {
      const from = parseInstant("2025-03-01", tz);
      const to = parseInstant("2025-04-01", tz);
      const days = periodsBetween("day", from, to, tz, 100);
      expect(days).toHaveLength(31);
      expect(days[0]!.start).toBe(from);
      expect(days.at(-1)!.end).toBe(to);
      for (let i = 1; i < days.length; i++) expect(days[i]!.start).toBe(days[i - 1]!.end);
      for (const d of days) expect(d.start % BUCKET_MS).toBe(0);
    }
  });

  it("clips partial periods to the range and keeps their label", () => {
    const tz = "UTC";
    const periods = periodsBetween("day", ms("2025-03-01T12:00:00Z"), ms("2025-03-03T06:00:00Z"), tz, 10);
    expect(periods).toEqual([
      { start: ms("2025-03-01T12:00:00Z"), end: ms("2025-03-02T00:00:00Z"), label: "2025-03-01" },
      { start: ms("2025-03-02T00:00:00Z"), end: ms("2025-03-03T00:00:00Z"), label: "2025-03-02" },
      { start: ms("2025-03-03T00:00:00Z"), end: ms("2025-03-03T06:00:00Z"), label: "2025-03-03" },
    ]);
    expect(periodsBetween(null, 5, 10, tz, 10)).toEqual([{ start: 5, end: 10, label: null }]);
    expect(() => periodsBetween("hour", 0, 1000 * HOUR, tz, 999)).toThrow(TimeError);
  });

  it("labels weeks by their Monday and months as YYYY-MM", () => {
    expect(periodLabel("week", startOf("week", ms("2025-01-01T12:00:00Z"), "UTC"), "UTC")).toBe("2024-12-30");
    expect(periodLabel("month", startOf("month", ms("2025-03-31T23:30:00Z"), "Europe/London"), "Europe/London")).toBe("2025-04");
  });

  it("finds the previous period across DST", () => {
    expect(new Date(previousPeriodStart("day", ms("2025-03-31T12:00:00Z"), "Europe/London")).toISOString()).toBe("2025-03-30T00:00:00.000Z");
    expect(new Date(previousPeriodStart("month", ms("2025-04-15T12:00:00Z"), "Europe/London")).toISOString()).toBe("2025-03-01T00:00:00.000Z");
  });

  it("floors to 15-minute buckets", () => {
    expect(floorToBucket(ms("2025-03-01T10:14:59.999Z"))).toBe(ms("2025-03-01T10:00:00Z"));
    expect(floorToBucket(ms("2025-03-01T10:15:00Z"))).toBe(ms("2025-03-01T10:15:00Z"));
    expect(bucketEndAfter(ms("2025-03-01T10:15:00Z"))).toBe(ms("2025-03-01T10:30:00Z"));
  });
});
