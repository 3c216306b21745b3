import Database from "better-sqlite3";
import { afterAll, describe, expect, it } from "vitest";
import { periodIndexSql, periodRuns } from "../../server/usage/rollups/period-index-sql.ts";
import { periodsBetween, type CalendarUnit } from "../../server/time.ts";
import { prng } from "./prng.ts";

// The fresh tail's period of a call, computed by SQL arithmetic on created_at, is the period that
// holds it: checked against a plain search of periodsBetween's list for every 15-minute bucket
// of random ranges (and a random instant inside each), in zones with DST (whole-hour, Lord Howe's
// half hour), :30 and :45 offsets, for every calendar unit.

const Q = 15 * 60_000;
const ZONES = ["UTC", "Europe/London", "America/New_York", "Asia/Kolkata", "Asia/Kathmandu", "Australia/Lord_Howe", "Pacific/Chatham"];
const UNITS: (CalendarUnit | null)[] = ["hour", "day", "week", "month", null];

describe("periodIndexSql: a call's period by arithmetic, one pass over the calls", () => {
  const client = new Database(":memory:");
  afterAll(() => client.close());
  client.exec("CREATE TABLE t (created_at INTEGER NOT NULL)");
  const insert = client.prepare("INSERT INTO t (created_at) VALUES (?)");

  /** Every bucket start of [from, to) and a random instant in each bucket, with their expected period. */
  function check(unit: CalendarUnit | null, from: number, to: number, tz: string, r: ReturnType<typeof prng>) {
    const periods = periodsBetween(unit, from, to, tz, 2_500);
    client.exec("DELETE FROM t");
    const fill = client.transaction(() => {
      for (let b = from; b < to; b += Q) {
        insert.run(b);
        insert.run(b + r.int(0, Q - 1));
      }
    });
    fill();
    const rows = client.prepare(`SELECT created_at AS t, ${periodIndexSql(periods)} AS p FROM t`).all() as { t: number; p: number }[];
    const context = `${unit} ${new Date(from).toISOString()} → ${new Date(to).toISOString()} ${tz}`;
    const wrong = rows.filter(({ t, p }) => !(Number.isInteger(p) && periods[p] && periods[p]!.start <= t && t < periods[p]!.end));
    expect(wrong.slice(0, 3).map((w) => ({ at: new Date(w.t).toISOString(), got: w.p, expected: periods.findIndex((x) => x.start <= w.t && w.t < x.end) })), context).toEqual([]);
    expect(rows.length, context).toBe(((to - from) / Q) * 2);
  }

  it("puts every bucket of random ranges in the period that holds it (every unit, zones with DST and :30/:45 offsets)", () => {
    const r = prng(11);
    for (let i = 0; i < 100; i++) {
      const unit = UNITS[i % UNITS.length]!;
      const tz = ZONES[r.int(0, ZONES.length - 1)]!;
      // Ranges around the 2025 DST changes (March, April, September, October, November).
      const from = Date.parse("2025-02-20T00:00:00Z") + r.int(0, 260 * 96) * Q;
      const days = unit === "hour" ? r.int(0, 12) : unit === "month" ? r.int(20, 400) : r.int(0, 120);
      const to = from + (days * 96 + r.int(1, 95)) * Q;
      check(unit, from, to, tz, r);
    }
  });

  it("handles 90 days by hour and two years by month in New York, and a 23- and 25-hour day in London", () => {
    const r = prng(12);
    check("hour", Date.parse("2025-08-15T04:00:00Z"), Date.parse("2025-11-13T05:00:00Z"), "America/New_York", r);
    check("month", Date.parse("2024-01-01T05:00:00Z"), Date.parse("2026-01-01T05:00:00Z"), "America/New_York", r);
    check("day", Date.parse("2025-03-29T00:00:00Z"), Date.parse("2025-03-31T23:00:00Z"), "Europe/London", r);
    check("day", Date.parse("2025-10-25T23:00:00Z"), Date.parse("2025-10-28T00:00:00Z"), "Europe/London", r);
  });

  it("is one run for a UTC hourly range (no CASE at all), a few for DST zones, and a balanced tree for many", () => {
    const hourly = periodsBetween("hour", Date.parse("2025-08-01T00:00:00Z"), Date.parse("2025-10-30T00:00:00Z"), "UTC", 2_500);
    expect(periodRuns(hourly)).toEqual([{ start: hourly[0]!.start, length: 3_600_000, first: 0, count: 2_160 }]);
    expect(periodIndexSql(hourly)).not.toMatch(/CASE/);
    const newYork = periodsBetween("day", Date.parse("2025-08-01T04:00:00Z"), Date.parse("2025-12-01T05:00:00Z"), "America/New_York", 2_500);
    // 24-hour days, the 25-hour 2025-11-02, 24-hour days.
    expect(periodRuns(newYork).map((run) => [run.length / 3_600_000, run.count])).toEqual([
      [24, 93],
      [25, 1],
      [24, 28],
    ]);
    const months = periodsBetween("month", Date.parse("1900-01-01T00:00:00Z"), Date.parse("2100-01-01T00:00:00Z"), "UTC", 2_500);
    let depth = 0;
    let deepest = 0;
    for (const [word] of periodIndexSql(months).matchAll(/\b(CASE|END)\b/g)) {
      depth += word === "CASE" ? 1 : -1;
      deepest = Math.max(deepest, depth);
    }
    const runs = periodRuns(months).length;
    expect(runs).toBeGreaterThan(1_000);
    expect(deepest).toBe(Math.ceil(Math.log2(runs)));
  });
});
