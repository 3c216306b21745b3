import { describe, expect, it } from "vitest";
import { CATCH_UP_PERIODS, lastCompletePeriod, nextRunAt, periodsDue, periodsTooOld, sendTimeOf, type ScheduleTiming } from "../../server/reports/schedule.ts";
import { atLocalTime } from "../../server/time.ts";

// Pure scheduling: which period a report covers and when it goes out, in the schedule's zone.

const iso = (ms: number) => new Date(ms).toISOString();
const at = (s: string) => Date.parse(s);

describe("lastCompletePeriod", () => {
  it.each<[ScheduleTiming["period"], string, string, string, string]>([
    // A London day across the spring-forward change is 23 hours long.
    ["daily", "Europe/London", "2026-03-30T08:00:00Z", "2026-03-29T00:00:00.000Z", "2026-03-29T23:00:00.000Z"],
    // …and 25 hours across the autumn change.
    ["daily", "Europe/London", "2026-10-26T09:00:00Z", "2026-10-24T23:00:00.000Z", "2026-10-26T00:00:00.000Z"],
    // ISO weeks run Monday to Sunday.
    ["weekly", "UTC", "2026-11-25T12:00:00Z", "2026-11-16T00:00:00.000Z", "2026-11-23T00:00:00.000Z"],
    ["monthly", "Europe/London", "2026-11-01T09:00:00Z", "2026-09-30T23:00:00.000Z", "2026-11-01T00:00:00.000Z"],
    // A +05:30 zone starts its days mid-hour in UTC.
    ["daily", "Asia/Kolkata", "2026-11-25T00:00:00Z", "2026-11-23T18:30:00.000Z", "2026-11-24T18:30:00.000Z"],
  ])("%s in %s at %s", (period, timezone, now, start, end) => {
    const range = lastCompletePeriod({ period, timezone, sendAt: "09:00" }, at(now));
    expect([iso(range.start), iso(range.end)]).toEqual([start, end]);
  });
});

describe("sendTimeOf: send_at on the local date the period ends", () => {
  it.each<[string, string, string, string]>([
    ["monthly Europe/London, winter", "Europe/London", "2026-11-01T00:00:00Z", "2026-11-01T09:00:00.000Z"],
    ["daily Europe/London, summer time", "Europe/London", "2026-06-15T23:00:00Z", "2026-06-16T08:00:00.000Z"],
    ["the spring-forward day itself", "Europe/London", "2026-03-29T00:00:00Z", "2026-03-29T08:00:00.000Z"],
    ["the fall-back day itself", "Europe/London", "2026-10-24T23:00:00Z", "2026-10-25T09:00:00.000Z"],
  ])("%s", (_name, timezone, periodEnd, expected) => {
    expect(iso(sendTimeOf({ period: "daily", timezone, sendAt: "09:00" }, { start: 0, end: at(periodEnd) }))).toBe(expected);
  });
});

describe("atLocalTime across DST", () => {
  it("moves a time inside the spring-forward gap forward by the gap (02:30 New York → 03:30 EDT)", () => {
    expect(iso(atLocalTime(at("2026-03-08T05:00:00Z"), 2, 30, "America/New_York"))).toBe("2026-03-08T07:30:00.000Z");
    // London skips 01:00–02:00: 01:30 becomes 02:30 BST.
    expect(iso(atLocalTime(at("2026-03-29T00:00:00Z"), 1, 30, "Europe/London"))).toBe("2026-03-29T01:30:00.000Z");
  });
  it("takes the first of two 01:30s on a fall-back day", () => {
    expect(iso(atLocalTime(at("2026-10-24T23:00:00Z"), 1, 30, "Europe/London"))).toBe("2026-10-25T00:30:00.000Z");
    expect(iso(atLocalTime(at("2026-11-01T04:00:00Z"), 1, 30, "America/New_York"))).toBe("2026-11-01T05:30:00.000Z");
  });
  it("keeps ordinary times exact in half-hour and 45-minute zones", () => {
    expect(iso(atLocalTime(at("2026-11-24T18:30:00Z"), 9, 0, "Asia/Kolkata"))).toBe("2026-11-25T03:30:00.000Z");
    expect(iso(atLocalTime(at("2026-11-24T18:15:00Z"), 0, 0, "Asia/Kathmandu"))).toBe("2026-11-24T18:15:00.000Z");
  });
});

describe("nextRunAt", () => {
  const monthly: ScheduleTiming = { period: "monthly", timezone: "Europe/London", sendAt: "09:00" };
  it("is today's send time when it has not passed yet", () => {
    expect(iso(nextRunAt(monthly, at("2026-11-01T08:59:00Z")))).toBe("2026-11-01T09:00:00.000Z");
  });
  it("is the next period's send time once today's has passed", () => {
    expect(iso(nextRunAt(monthly, at("2026-11-01T09:00:00Z")))).toBe("2026-12-01T09:00:00.000Z");
    // 1 April is in summer time: 09:00 BST.
    expect(iso(nextRunAt(monthly, at("2026-03-05T00:00:00Z")))).toBe("2026-04-01T08:00:00.000Z");
  });
});

describe("periodsDue: bounded catch-up", () => {
  const daily: ScheduleTiming = { period: "daily", timezone: "UTC", sendAt: "06:00" };
  const created = at("2026-11-01T00:00:00Z");

  it("is empty before the first send time after creation", () => {
    expect(periodsDue(daily, at("2026-11-01T10:00:00Z"), at("2026-11-02T05:59:00Z"))).toEqual([]);
  });
  it("never covers periods whose send time came before the schedule existed", () => {
    const due = periodsDue(daily, at("2026-11-01T10:00:00Z"), at("2026-11-02T06:00:00Z"));
    expect(due.map((p) => iso(p.start))).toEqual(["2026-11-01T00:00:00.000Z"]);
    expect(periodsTooOld(daily, at("2026-11-01T10:00:00Z"), due[0]!)).toEqual([]);
  });
  it(`after downtime: the newest ${CATCH_UP_PERIODS} due periods, the rest too old`, () => {
    const due = periodsDue(daily, created, at("2026-11-10T05:00:00Z"));
    // The 9th's report is due at 06:00 on the 10th: not yet.
    expect(due.map((p) => iso(p.start))).toEqual(["2026-11-08T00:00:00.000Z", "2026-11-07T00:00:00.000Z", "2026-11-06T00:00:00.000Z"]);
    expect(periodsTooOld(daily, created, due.at(-1)!).map((p) => iso(p.start))).toEqual([
      "2026-11-05T00:00:00.000Z",
      "2026-11-04T00:00:00.000Z",
      "2026-11-03T00:00:00.000Z",
      "2026-11-02T00:00:00.000Z",
      "2026-11-01T00:00:00.000Z",
      // Its report was due at 06:00 on 1 Nov, after the schedule was created at 00:00.
      "2026-10-31T00:00:00.000Z",
    ]);
  });
});
