import { parse as parseCsv } from "csv-parse/sync";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { TOP_N } from "../../server/usage/usage-query.ts";
import { startTestServer, type TestServer } from "../harness.ts";
import type { UsageJson } from "../../server/usage/usage-json.ts";
import { fixedClock, getJson, recordCalls, spendCall } from "./spend-fixtures.ts";
import { rollUpAll } from "../pg/rollup-ready.ts";

// GET /api/usage, /api/usage.csv and /api/usage/summary: calendar periods in a zone, bounded
// breakdowns, CSV safety, the summary's arithmetic, and 400s that name the parameter.

const QUARTER = 15 * 60_000;

/** One call every 15 minutes over [fromIso, toIso): per-day counts then show the day's length. */
function everyQuarterHour(fromIso: string, toIso: string, overrides = {}) {
  const calls = [];
  for (let t = Date.parse(fromIso); t < Date.parse(toIso); t += QUARTER) calls.push(spendCall({ createdAt: t + 60_000, ...overrides }));
  return calls;
}

describe("usage API: calendar periods follow tz", () => {
  const clock = fixedClock("2025-11-20T12:00:00Z");
  let server: TestServer;
  const days = async (query: string) => {
    const body = await getJson<UsageJson>(server, `/api/usage?group_by=day&${query}`);
    return Object.fromEntries(body.rows.map((r) => [r.group.day, r.requests]));
  };

  beforeAll(async () => {
    server = await startTestServer({}, clock);
    await recordCalls(server, [
      ...everyQuarterHour("2025-03-28T00:00:00Z", "2025-04-02T00:00:00Z"),
      ...everyQuarterHour("2025-10-24T00:00:00Z", "2025-11-05T00:00:00Z"),
    ]);
    await rollUpAll(server.db, clock.now());
    // A few past the watermark too, so both sources are in play.
    await recordCalls(server, [spendCall({ createdAt: Date.parse("2025-03-30T12:00:00Z"), keyId: "tail" })]);
  });
  afterAll(async () => {
    await server?.stop();
  });

  it("gives Europe/London 23 hours on 2025-03-30 and 25 on 2025-10-26", async () => {
    expect(await days("tz=Europe/London&from=2025-03-29&to=2025-04-01")).toEqual({ "2025-03-29": 96, "2025-03-30": 92 + 1, "2025-03-31": 96 });
    expect(await days("tz=Europe/London&from=2025-10-25&to=2025-10-28")).toEqual({ "2025-10-25": 96, "2025-10-26": 100, "2025-10-27": 96 });
  });

  it("gives America/New_York 25 hours on 2025-11-02", async () => {
    expect(await days("tz=America/New_York&from=2025-11-01&to=2025-11-04")).toEqual({ "2025-11-01": 96, "2025-11-02": 100, "2025-11-03": 96 });
  });

  it("starts days at 18:30Z in Asia/Kolkata and 18:15Z in Asia/Kathmandu", async () => {
    const kolkata = await getJson<UsageJson>(server, "/api/usage?group_by=day&tz=Asia/Kolkata&from=2025-03-29&to=2025-03-30");
    expect(kolkata.from).toBe("2025-03-28T18:30:00.000Z");
    expect(kolkata.rows.map((r) => [r.group.day, r.requests])).toEqual([["2025-03-29", 96]]);
    const kathmandu = await getJson<UsageJson>(server, "/api/usage?group_by=hour&tz=Asia/Kathmandu&from=2025-03-29T00:00:00%2B05:45&to=2025-03-29T03:00:00%2B05:45");
    expect(kathmandu.rows.map((r) => [r.group.hour, r.requests])).toEqual([
      ["2025-03-29T00:00+05:45", 4],
      ["2025-03-29T01:00+05:45", 4],
      ["2025-03-29T02:00+05:45", 4],
    ]);
  });

  it("makes the days of a month add up to the month, in every zone", async () => {
    for (const tz of ["Europe/London", "America/New_York", "Asia/Kolkata", "Asia/Kathmandu"]) {
      const q = `tz=${tz}&from=2025-10-01&to=2025-12-01`;
      const byDay = await getJson<UsageJson>(server, `/api/usage?group_by=day&${q}`);
      const byMonth = await getJson<UsageJson>(server, `/api/usage?group_by=month&${q}`);
      const dayCosts = byDay.rows.map((r) => BigInt(r.cost_usd.replace(".", "")));
      const monthCosts = byMonth.rows.map((r) => BigInt(r.cost_usd.replace(".", "")));
      expect(dayCosts.reduce((a: bigint, b: bigint) => a + b, 0n)).toBe(monthCosts.reduce((a: bigint, b: bigint) => a + b, 0n));
      expect(byDay.totals).toEqual(byMonth.totals);
    }
  });

  it("defaults to the current month in REPORT_TZ up to now", async () => {
    const body = await getJson<UsageJson>(server, "/api/usage");
    expect([body.tz, body.from, body.to]).toEqual(["UTC", "2025-11-01T00:00:00.000Z", "2025-11-20T12:15:00.000Z"]);
    expect(body.totals.requests).toBe(4 * 96); // Nov 1–4
    expect(body.rows).toEqual([{ group: {}, ...body.totals }]);
  });

  it.each([
    ["from=2025-03-01T10:00:00", "from: "],
    ["from=2025-03-02&to=2025-03-01", "from: must be before to"],
    ["tz=Mars/Olympus", "tz: unknown IANA time zone"],
    ["group_by=colour", 'group_by: unknown key "colour"'],
    ["group_by=day,model,team", "group_by: at most two keys"],
    ["group_by=day,month", "group_by: at most one of hour, day, week, month"],
    ["group_by=model,model", "group_by: the two keys must differ"],
    ["group_by=hour&from=2020-01-01&to=2025-01-01", "group_by: more than 2500 hour periods"],
    ["groupby=model", "groupby: unknown parameter"],
  ])("rejects %s with a 400 naming the parameter", async (query, message) => {
    for (const path of ["/api/usage", "/api/usage.csv"]) {
      const res = await server.api(`${path}?${query}`);
      const body = await res.json();
      expect(res.status, JSON.stringify(body)).toBe(400);
      expect(body.error.message).toContain(message);
    }
  });
});

describe("usage API: bounded breakdowns, CSV and summary", () => {
  const clock = fixedClock("2025-03-16T00:00:00Z"); // halfway through March (31 days)
  let server: TestServer;

  beforeAll(async () => {
    server = await startTestServer({}, clock);
    const storm = Array.from({ length: 150 }, (_, i) => spendCall({ keyId: `storm-${String(i).padStart(3, "0")}`, promptTokens: 1000 + i, completionTokens: 0 }));
    await recordCalls(server, [
      ...storm,
      spendCall({ team: '=HYPERLINK("http://evil","x")', project: "a,b", user: '"quoted"', keyId: "k-csv" }),
      spendCall({ team: "+1", project: "-2", user: "@sum", keyId: "k-csv" }),
      spendCall({ team: "\tTab", project: "line\nbreak", user: null, keyId: "k-csv" }),
      // February: the previous full month for the summary.
      spendCall({ createdAt: Date.parse("2025-02-10T00:00:00Z"), promptTokens: 1_000_000, completionTokens: 1_000_000 }),
      // March so far: $0.06 + the small calls above.
      spendCall({ createdAt: Date.parse("2025-03-02T00:00:00Z"), promptTokens: 1_000_000, completionTokens: 1_000_000 }),
    ]);
  });
  afterAll(async () => {
    await server?.stop();
  });

  it(`keeps the top ${TOP_N} keys by cost and folds the rest into "(other)"`, async () => {
    const body = await getJson<UsageJson>(server, "/api/usage?from=2025-03-01&to=2025-04-01&group_by=key");
    expect(body.rows).toHaveLength(TOP_N + 1);
    const other = body.rows.at(-1)!;
    expect(other.group).toEqual({ key: "(other)" });
    expect(other.other).toBe(true);
    expect(body.rows.slice(0, TOP_N).every((r) => r.other === undefined)).toBe(true);
    expect(body.rows.reduce((n, r) => n + r.requests, 0)).toBe(body.totals.requests);
    // The most expensive storm keys are the ones with the most tokens.
    expect(body.rows.map((r) => r.group.key)).toContain("storm-149");
  });

  it("writes RFC 4180 CSV with formula cells neutralised", async () => {
    const res = await server.api("/api/usage.csv?from=2025-03-01&to=2025-04-01&group_by=team,project");
    // Named after what it holds: a whole month in the zone is the month.
    expect(res.headers.get("content-disposition")).toBe('attachment; filename="usage-by-team-and-project-2025-03.csv"');
    const days = await server.api("/api/usage.csv?from=2025-03-01&to=2025-03-16&group_by=day&tz=Europe/London");
    expect(days.headers.get("content-disposition")).toBe('attachment; filename="usage-by-day-2025-03-01-to-2025-03-15.csv"');
    const text = await res.text();
    expect(text.split("\r\n")[0]).toBe("team,project,requests,errors,prompt_tokens,completion_tokens,cost_usd,unpriced_requests");
    expect(text).toContain(`"'=HYPERLINK(""http://evil"",""x"")","a,b"`);
    const records = parseCsv(text, { columns: true }) as Record<string, string>[];
    const teams = records.map((r) => [r.team, r.project]);
    expect(teams).toEqual(expect.arrayContaining([["'+1", "'-2"], ["'\tTab", "line\nbreak"], ["", ""]]));
    const json = await getJson<UsageJson>(server, "/api/usage?from=2025-03-01&to=2025-04-01&group_by=team,project");
    expect(records.map((r) => r.cost_usd)).toEqual(json.rows.map((r) => r.cost_usd));
  });

  it("summarises the month: to date, previous month, projection and change", async () => {
    const body = await getJson(server, "/api/usage/summary?period=month");
    const march = await getJson<UsageJson>(server, "/api/usage?from=2025-03-01&to=2025-03-16");
    expect(body.current).toMatchObject({ from: "2025-03-01T00:00:00.000Z", to: "2025-04-01T00:00:00.000Z", as_of: "2025-03-16T00:00:00.000Z" });
    expect(body.current.cost_usd).toBe(march.totals.cost_usd);
    expect(body.previous).toMatchObject({ from: "2025-02-01T00:00:00.000Z", to: "2025-03-01T00:00:00.000Z", cost_usd: "0.060000000", requests: 1 });
    // 15 of 31 days elapsed: projected = to-date × 31 / 15, rounded half up once.
    const toDate = BigInt(march.totals.cost_usd.replace(".", ""));
    const projected = (2n * toDate * 31n + 15n) / 30n;
    expect(body.projected_cost_usd).toBe(`${projected / 1_000_000_000n}.${String(projected % 1_000_000_000n).padStart(9, "0")}`);
    const pct = (2n * (projected - 60_000_000n) * 10_000n + 60_000_000n) / 120_000_000n;
    expect(body.change_percent).toBe(`${pct / 100n}.${String(pct % 100n).padStart(2, "0")}`);
  });

  it("says null for the change when the previous period had no spend", async () => {
    const body = await getJson(server, "/api/usage/summary?period=week&tz=Europe/London");
    expect(body.previous.cost_usd).toBe("0.000000000");
    expect(body.change_percent).toBeNull();
    expect(body.current.from).toBe("2025-03-10T00:00:00.000Z");
  });

  it("rejects an unknown period", async () => {
    const res = await server.api("/api/usage/summary?period=year");
    expect(res.status).toBe(400);
    expect((await res.json()).error.message).toContain("period: must be one of day, week, month");
  });
});
