import { describe, expect, it } from "vitest";
import { spendPeriod } from "../../server/usage/spend-period.ts";
import { TimeError } from "../../server/time.ts";

// The spend page's period picker (the page itself is covered in pages.happy.test.ts).

const iso = (ms: number) => new Date(ms).toISOString();
const NOW = Date.parse("2025-05-20T12:00:00Z");

function periods(preset: Parameters<typeof spendPeriod>[0], tz: string, custom: { from?: string; to?: string } = {}) {
  const p = spendPeriod(preset, NOW, tz, custom);
  return [iso(p.from), iso(p.to), iso(p.previousFrom), iso(p.previousTo)];
}

describe("spendPeriod", () => {
  it("months and quarters in UTC, with the calendar period before", () => {
    expect(periods("this-month", "UTC")).toEqual(["2025-05-01T00:00:00.000Z", "2025-06-01T00:00:00.000Z", "2025-04-01T00:00:00.000Z", "2025-05-01T00:00:00.000Z"]);
    expect(periods("last-month", "UTC")).toEqual(["2025-04-01T00:00:00.000Z", "2025-05-01T00:00:00.000Z", "2025-03-01T00:00:00.000Z", "2025-04-01T00:00:00.000Z"]);
    expect(periods("this-quarter", "UTC")).toEqual(["2025-04-01T00:00:00.000Z", "2025-07-01T00:00:00.000Z", "2025-01-01T00:00:00.000Z", "2025-04-01T00:00:00.000Z"]);
    expect(periods("last-quarter", "UTC")).toEqual(["2025-01-01T00:00:00.000Z", "2025-04-01T00:00:00.000Z", "2024-10-01T00:00:00.000Z", "2025-01-01T00:00:00.000Z"]);
  });

  it("follows the zone: a London month starts at its own midnight, across the DST change", () => {
    expect(periods("last-month", "Europe/London")).toEqual(["2025-03-31T23:00:00.000Z", "2025-04-30T23:00:00.000Z", "2025-03-01T00:00:00.000Z", "2025-03-31T23:00:00.000Z"]);
  });

  it("custom dates: `to` is inclusive, the previous period is the same length just before", () => {
    expect(periods("custom", "Asia/Kolkata", { from: "2025-03-01", to: "2025-03-10" })).toEqual([
      "2025-02-28T18:30:00.000Z",
      "2025-03-10T18:30:00.000Z",
      "2025-02-18T18:30:00.000Z",
      "2025-02-28T18:30:00.000Z",
    ]);
    expect(periods("custom", "UTC", { from: "2025-03-01", to: "2025-03-01" }).slice(0, 2)).toEqual(["2025-03-01T00:00:00.000Z", "2025-03-02T00:00:00.000Z"]);
  });

  it.each([
    [{ from: "2025-03-01" }, "choose both"],
    [{ from: "2025-03-01T00:00Z", to: "2025-03-02" }, "dates must look like"],
    [{ from: "2025-03-02", to: "2025-03-01" }, "must not be before"],
  ])("refuses custom %j with a TimeError", (custom, message) => {
    expect(() => spendPeriod("custom", NOW, "UTC", custom)).toThrow(TimeError);
    expect(() => spendPeriod("custom", NOW, "UTC", custom)).toThrow(message);
  });
});
