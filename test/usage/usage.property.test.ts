import { parse as parseCsv } from "csv-parse/sync";
import { DateTime } from "luxon";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runRetention } from "../../jobs/retention.ts";
import { runRollupInSteps, runRollupRebuild } from "../../jobs/rollup.ts";
import { usageJson } from "../../server/usage/usage-json.ts";
import { DIMENSIONS, TOP_N, queryUsage, type DimensionKey, type GroupKey } from "../../server/usage/usage-query.ts";
import { PAIRS, pairName } from "../../server/usage/rollups/dimension-pairs.ts";
import { ROLLUP_LEVELS } from "../../server/usage/rollups/rollup-levels.ts";
import { rollupFamily } from "../../server/usage/usage-sql.ts";
import { bruteForceUsage, expectOracleAnswer, measuresOf, snapshotCalls, type Query, type RawCall } from "./brute-force-usage.ts";
import { prng, type Prng } from "./prng.ts";
import { fixedClock, spendCall } from "./spend-fixtures.ts";
import { SPEND_ENGINES, startSpendEngine, type SpendEngine } from "./spend-engines.ts";
import { sql } from "drizzle-orm";
import type { Db } from "../../server/db/database.ts";
import { rollUpAll } from "../pg/rollup-ready.ts";
// Property: for many random (from, to, tz, group_by), GET /api/usage equals a brute-force BigInt
// sum over the raw calls, to the nano-dollar, whatever state the rollup is in: nothing rolled
// up, rolled up, calls past the watermark (some created long ago), rebuilt, raw calls deleted by
// retention, and two rollup processes started at the same moment. SEED replays a failure. The
// same calls and queries on SQLite (over HTTP) and on PostgreSQL (through the functions the
// routes call, spend-engines.ts), so both engines answer the same figures.

const SEED = Number(process.env.SPEND_PROPERTY_SEED ?? 20250406);
const QUERIES_PER_STAGE = 30;
const DATA_FROM = Date.parse("2025-01-06T00:00:00Z");
const NOW = "2025-04-06T10:07:00Z";
const BUCKET = 15 * 60_000;
const DAY = 86_400_000;

const TZS = ["UTC", "Europe/London", "America/New_York", "Asia/Kolkata", "Asia/Kathmandu"];
const GROUPS = [[], ["model"], ["key"], ["team"], ["project"], ["user"], ["status"], ["day"], ["week"], ["month"], ["hour"],
  ["day", "model"], ["model", "day"], ["month", "key"], ["model", "team"], ["key", "status"], ["week", "team"], ["hour", "model"]];

// The catalog the test expects, written out independently of the server's PriceBook: seeds from
// migration 0001 (docs/nscale.md, "Published prices"), an admin change mid-February, a sync change
// mid-March, an admin and a sync row starting at the same instant (admin must win), and a price
// with fractional nano-USD per token.
const M8B = "meta-llama/Llama-3.1-8B-Instruct";
const M70B = "meta-llama/Llama-3.3-70B-Instruct";
const QWQ = "Qwen/QwQ-32B";
const R1 = "deepseek-ai/DeepSeek-R1-Distill-Llama-70B";
const UNPRICED = "acme/unpriced-model";
const EXPECTED_PRICES: Record<string, { from: number; input: bigint; output: bigint }[]> = {
  [M8B]: [
    { from: 0, input: 30_000n, output: 30_000n },
    { from: Date.parse("2025-03-01T00:00:00Z"), input: 31_000n, output: 32_000n },
  ],
  [M70B]: [
    { from: 0, input: 200_000n, output: 200_000n },
    { from: Date.parse("2025-02-14T12:00:00Z"), input: 250_000n, output: 350_000n },
  ],
  [QWQ]: [
    { from: 0, input: 180_000n, output: 200_000n },
    { from: Date.parse("2025-03-15T00:00:00Z"), input: 190_000n, output: 210_000n },
  ],
  [R1]: [
    { from: 0, input: 375_000n, output: 375_000n },
    // Not a whole nano-USD per token (375.5 and 123.457): each call's cost is rounded, half up.
    { from: Date.parse("2025-03-20T00:00:00Z"), input: 375_500n, output: 123_457n },
  ],
};

function expectedCost(c: RawCall): number | null {
  const rows = c.model ? EXPECTED_PRICES[c.model] : undefined;
  const price = rows?.filter((r) => r.from <= c.createdAt).at(-1);
  if (!price) return null;
  const picoUsd = BigInt(c.promptTokens ?? 0) * price.input + BigInt(c.completionTokens ?? 0) * price.output;
  return Number((picoUsd + 500n) / 1000n);
}

const KEYS = Array.from({ length: 30 }, (_, i) => `key-${String(i).padStart(2, "0")}`);
const TEAMS = ["search", "ads", "=cmd|' /C calc'!A0", "ml, research", '"quoted"', null];
const PROJECTS = ["alpha", "beta", "-minus", null];
const USERS = ["ana", "bo", "chen", "dee", "@eve", null];
const MODELS = [M8B, M8B, M70B, QWQ, R1, UNPRICED, null];
const STATUSES = [200, 200, 200, 200, 200, 200, 201, 400, 404, 429, 499, 500, 503];

function randomCall(r: Prng, from: number, to: number) {
  const status = r.pick(STATUSES);
  const model = r.pick(MODELS);
  const noUsage = r.next() < 0.05;
  return spendCall({
    createdAt: r.int(from, to - 1),
    model,
    endpoint: model ? "/v1/chat/completions" : "/v1/models",
    status,
    errorType: status >= 400 ? "upstream_error" : r.next() < 0.02 ? "stream_error" : null,
    promptTokens: noUsage ? null : r.int(0, 4000),
    completionTokens: noUsage ? null : r.int(0, 2000),
    usageSource: noUsage ? "none" : "upstream",
    // Skewed so that top-N has clear winners and a long tail to fold.
    keyId: KEYS[Math.floor(r.next() ** 2 * KEYS.length)]!,
    team: r.pick(TEAMS),
    project: r.pick(PROJECTS),
    user: r.pick(USERS),
  });
}

/** A random usage query: bare dates or instants (Z or the zone's offset), any zone, any grouping. */
function randomQuery(r: Prng): { path: string; q: Query } {
  const tz = r.pick(TZS);
  const groupBy = r.pick(GROUPS);
  const maxDays = groupBy.includes("hour") ? 10 : 100;
  let fromText: string;
  let toText: string;
  let from: number;
  let to: number;
  if (r.next() < 0.5) {
    const first = DateTime.fromISO("2025-01-03", { zone: tz }).plus({ days: r.int(0, 95) });
    const last = first.plus({ days: r.int(1, maxDays) });
    [fromText, toText] = [first.toISODate()!, last.toISODate()!];
    [from, to] = [first.toMillis(), last.toMillis()];
  } else {
    from = DATA_FROM - 2 * DAY + r.int(0, (95 * DAY) / BUCKET) * BUCKET;
    to = from + r.int(1, (maxDays * DAY) / BUCKET) * BUCKET;
    const iso = (ms: number) =>
      r.next() < 0.5 ? new Date(ms).toISOString() : DateTime.fromMillis(ms, { zone: tz }).toISO({ suppressMilliseconds: true })!;
    [fromText, toText] = [iso(from), iso(to)];
  }
  const params = new URLSearchParams({ from: fromText, to: toText, tz });
  if (groupBy.length) params.set("group_by", groupBy.join(","));
  return { path: `/api/usage?${params}`, q: { from, to, tz, groupBy } };
}

// Edges of the level decomposition (15-minute head, whole hours, whole UTC days, 15-minute tail):
// days with a DST change (US, EU, Lord Howe's half-hour shift, Chatham's at a :45 offset), zones
// at :30 and :45 offsets, and ranges that start and end at :15, :30 or :45. Every bucket of these
// days gets calls, so a piece read at the wrong level, twice or not at all changes a total.
const EDGE_DAYS = ["2025-03-09", "2025-03-30", "2025-04-05"];
const EDGE_TZS = ["UTC", "America/New_York", "Europe/London", "Asia/Kolkata", "Asia/Kathmandu", "Australia/Lord_Howe", "Pacific/Chatham"];
const ODD_DST_TZS = ["Australia/Lord_Howe", "Pacific/Chatham"];
const EDGE_GROUPS = [[], ["hour"], ["day"], ["week"], ["model"], ["status"], ["day", "model"], ["hour", "team"], ["model", "key"], ["day", "user"], ["user", "key"],
  ["team", "model"], ["project", "status"], ["status", "user"]];

/** A range of up to three days around an edge day, on 15-minute boundaries (mostly not whole hours). */
function randomEdgeQuery(r: Prng): { path: string; q: Query } {
  const tz = r.pick(EDGE_TZS);
  // Hour periods across a DST shift that is not a whole hour (Lord Howe's 30 minutes, Chatham's
  // :45 zone) are ambiguous: the server's hours are consecutive real hours, the oracle labels each
  // call with luxon's startOf("hour"), and the two disagree for the repeated 30/45 minutes.
  const groupBy = r.pick(EDGE_GROUPS.filter((g) => !(g.includes("hour") && ODD_DST_TZS.includes(tz))));
  const from = Date.parse(`${r.pick(EDGE_DAYS)}T00:00:00Z`) - r.int(0, 36 * 4) * BUCKET;
  const to = Math.min(from + r.int(1, 3 * 24 * 4) * BUCKET, Math.ceil(Date.parse(NOW) / BUCKET) * BUCKET);
  const iso = (ms: number) => (r.next() < 0.5 ? new Date(ms).toISOString() : DateTime.fromMillis(ms, { zone: tz }).toISO({ suppressMilliseconds: true })!);
  const params = new URLSearchParams({ from: iso(from), to: iso(to), tz });
  if (groupBy.length) params.set("group_by", groupBy.join(","));
  return { path: `/api/usage?${params}`, q: { from, to, tz, groupBy } };
}

const DIMENSION_KEYS = Object.keys(DIMENSIONS) as DimensionKey[];
const FILTER_VALUES = { team: TEAMS, project: PROJECTS, model: MODELS } as const;
type FilterKey = keyof typeof FILTER_VALUES;

/**
 * A random query on exactly two columns, the two-dimension family's (rollup_two_dims_hour and _daily;
 * its 15-minute edges read from the no-key-user or every-dimension rows): two dimensions in either
 * order (key × user included), or one dimension (maybe with a calendar unit) and a filter on
 * another column, or two filters; sometimes a filter on a dimension asked as well. The range and
 * zone come from `range` (randomQuery's, or randomEdgeQuery's: 15-minute edges in :30/:45 zones).
 */
function randomPairQuery(r: Prng, range: (r: Prng) => { path: string; q: Query } = randomQuery): { path: string; q: Query } {
  const base = range(r);
  const [x, y] = r.pick(DIMENSION_KEYS.flatMap((a) => DIMENSION_KEYS.filter((b) => b !== a).map((b) => [a, b] as const)));
  const filterable = (k: DimensionKey): k is FilterKey => k in FILTER_VALUES;
  const value = (k: FilterKey) => r.pick(FILTER_VALUES[k].filter((v): v is string => v !== null));
  const shape = r.int(0, 3);
  let groupBy: string[] = [x, y];
  const filter: NonNullable<Query["filter"]> = {};
  if (shape === 1 && filterable(y)) {
    groupBy = r.next() < 0.5 ? [x] : [r.pick(["day", "week", "month"]), x];
    filter[y] = value(y);
  } else if (shape === 2 && filterable(x) && filterable(y)) {
    groupBy = [];
    filter[x] = value(x);
    filter[y] = value(y);
  } else if (shape === 3 && filterable(x)) {
    filter[x] = value(x);
  }
  const dims = groupBy.filter((g): g is DimensionKey => g in DIMENSIONS).map((g) => DIMENSIONS[g]);
  expect(rollupFamily(dims, filter), JSON.stringify({ groupBy, filter })).toBe("twoDims");
  const params = new URLSearchParams(base.path.slice(base.path.indexOf("?") + 1));
  params.delete("group_by");
  if (groupBy.length) params.set("group_by", groupBy.join(","));
  for (const [k, v] of Object.entries(filter)) params.set(k, v);
  return { path: `/api/usage?${params}`, q: { ...base.q, groupBy, filter } };
}

/** randomPairQuery over randomEdgeQuery's ranges, which mostly start and end off the hour. */
function randomPairEdgeQuery(r: Prng): { path: string; q: Query } {
  return randomPairQuery(r, randomEdgeQuery);
}

describe.each(SPEND_ENGINES)("usage equals a brute-force sum over raw calls, to the nano-dollar, on %s", (engineName) => {
  const clock = fixedClock(NOW);
  const rand = prng(SEED);
  // Every call ever recorded, kept here when retention deletes it from the database.
  const truth = new Map<number, RawCall>();
  let engine: SpendEngine;

  const syncTruth = async () => {
    for (const c of await snapshotCalls(engine.db)) truth.set(c.id, c);
  };

  async function recordRandom(n: number, from: number, to: number) {
    await engine.record(Array.from({ length: n }, () => randomCall(rand, from, to)));
    await syncTruth();
  }

  async function expectRandomQueriesMatch(stage: string, n = QUERIES_PER_STAGE, query = randomQuery) {
    // Before each two-column stage (~0.3 s each, so not before every stage).
    if (query === randomPairQuery || query === randomPairEdgeQuery) await expectPairLevelsExact(engine.db, stage);
    const calls = [...truth.values()];
    for (let i = 0; i < n; i++) {
      const { path, q } = query(rand);
      const body = await engine.usage(path);
      const expected = bruteForceUsage(calls, q, TOP_N);
      const context = `${stage} (seed ${SEED}): ${path}`;
      expectOracleAnswer(body, expected, context);
      expect([body.from, body.to, body.tz], context).toEqual([new Date(q.from).toISOString(), new Date(q.to).toISOString(), q.tz]);
      for (const row of body.rows) expect(Object.values(row.group).includes("(other)"), context).toBe(row.other === true);
    }
  }

  beforeAll(async () => {
    engine = await startSpendEngine(engineName, clock, { ownServer: true });
    await engine.adminPrice(M70B, "0.25", "0.35", "2025-02-14T12:00:00Z");
    await engine.adminPrice(M8B, "0.031", "0.032", "2025-03-01"); // bare date: REPORT_TZ (UTC) midnight
    await engine.adminPrice(R1, "0.3755", "0.123457", "2025-03-20");
    await engine.syncPrice(QWQ, 190_000, 210_000, Date.parse("2025-03-15T00:00:00Z"));
    await engine.syncPrice(M8B, 50_000, 50_000, Date.parse("2025-03-01T00:00:00Z")); // same start as the admin row: admin wins
    await recordRandom(3000, DATA_FROM, clock.now());
  }, 60_000);

  afterAll(async () => {
    await engine?.stop();
  });

  it("prices every call with the row in effect at its created_at (null when unpriced, never 0)", () => {
    const calls = [...truth.values()];
    const wrong = calls.filter((c) => c.costNano !== expectedCost(c));
    expect(wrong.slice(0, 3)).toEqual([]);
    expect(calls.some((c) => c.model === UNPRICED && c.costNano === null)).toBe(true);
    expect(calls.filter((c) => c.model === null).every((c) => c.costNano === null)).toBe(true);
    // The fractional price rounds calls both ways, so a truncating or float cost would be caught.
    const fractionalPico = calls
      .filter((c) => c.model === R1 && c.createdAt >= Date.parse("2025-03-20T00:00:00Z"))
      .map((c) => (BigInt(c.promptTokens ?? 0) * 375_500n + BigInt(c.completionTokens ?? 0) * 123_457n) % 1000n);
    expect(fractionalPico.filter((r) => r >= 500n).length).toBeGreaterThan(5);
    expect(fractionalPico.filter((r) => r > 0n && r < 500n).length).toBeGreaterThan(5);
  });

  it("before any rollup (everything from raw calls)", async () => {
    await expectRandomQueriesMatch("before rollup");
  });

  it("after a rollup (everything from buckets)", async () => {
    expect((await rollUpAll(engine.db, clock.now())).calls).toBe(3000);
    await expectRandomQueriesMatch("after rollup");
    await expectRandomQueriesMatch("after rollup, two columns (pair levels)", 20, randomPairQuery);
  });

  it("with calls past the watermark, some created weeks ago (buckets + fresh tail)", async () => {
    await recordRandom(400, clock.now() - 2 * DAY, clock.now());
    await recordRandom(200, DATA_FROM, clock.now()); // late arrivals land in old buckets
    await expectRandomQueriesMatch("buckets + tail");
    await expectRandomQueriesMatch("buckets + tail, two columns", 15, randomPairQuery);
    // The scheduler's variant: many short transactions, one logged run.
    expect((await runRollupInSteps(engine.db, clock.now(), 97)).calls).toBe(600);
    await expectRandomQueriesMatch("after a rollup in steps", 10);
  });

  it("after a rebuild from raw calls", async () => {
    await recordRandom(100, DATA_FROM, clock.now());
    await runRollupRebuild(engine.db, clock.now());
    await expectRandomQueriesMatch("after rebuild");
    await expectRandomQueriesMatch("after rebuild, two columns", 15, randomPairQuery);
  });

  it("after retention deleted old raw calls (buckets keep their totals), and after a rebuild then", async () => {
    await recordRandom(100, DATA_FROM, clock.now());
    const before = truth.size;
    const result = await runRetention(engine.db, clock.now(), { bodiesDays: 30, callsDays: 40 });
    const remaining = await snapshotCalls(engine.db);
    expect(result.callsDeleted).toBeGreaterThan(500);
    expect(remaining.length).toBe(before - result.callsDeleted);
    expect(remaining.every((c) => c.createdAt >= result.callsBefore)).toBe(true);
    await expectRandomQueriesMatch("after retention");
    await expectRandomQueriesMatch("after retention, two columns", 10, randomPairQuery);
    await runRollupRebuild(engine.db, clock.now());
    await expectRandomQueriesMatch("after retention + rebuild", 10);
    await expectRandomQueriesMatch("after retention + rebuild, two columns", 10, randomPairQuery);
  });

  it("when two rollup processes start at the same moment on one database", async () => {
    await recordRandom(1500, DATA_FROM, clock.now()); // includes calls older than the retention horizon
    const pending = await engine.pendingCalls();
    expect(pending).toBe(1500);
    // Both wait on the rollup lock held elsewhere, then race when it is released.
    const counts = await engine.racingRollups();
    expect(counts.reduce((a, b) => a + b, 0)).toBe(pending);
    expect(counts).toContain(0); // the second one found nothing left to do
    await expectRandomQueriesMatch("after concurrent rollups");
    await expectRandomQueriesMatch("after concurrent rollups, two columns", 10, randomPairQuery);
  });

  it("reads 15-minute edges, whole hours and whole UTC days exactly (:30/:45 zones, DST days, a horizon mid-hour)", async () => {
    const dense = EDGE_DAYS.flatMap((day) => {
      const start = Date.parse(`${day}T00:00:00Z`) - DAY;
      return Array.from({ length: 3 * 96 }, (_, i) => start + i * BUCKET)
        .filter((bucket) => bucket < clock.now())
        .flatMap((bucket) => Array.from({ length: rand.int(1, 2) }, () => randomCall(rand, bucket, Math.min(bucket + BUCKET, clock.now()))));
    });
    await engine.record(dense);
    await syncTruth();
    await expectRandomQueriesMatch("edges, dense calls past the watermark", 10, randomEdgeQuery);
    await rollUpAll(engine.db, clock.now());
    await expectRandomQueriesMatch("edges, after rollup", 40, randomEdgeQuery);
    // Two columns: whole hours and days from the pair rows, the 15-minute edges from the narrow
    // rows (model, team, project, status) or the every-dimension rows (with key or user).
    await expectRandomQueriesMatch("edges, after rollup, two columns", 40, randomPairEdgeQuery);
    // A horizon at :45 past an hour: the hour and the day around it hold calls that are gone, so
    // a rebuild must sum them from the finer rows, not from raw calls.
    const retention = await runRetention(engine.db, clock.now() + 45 * 60_000, { bodiesDays: 30, callsDays: 33 });
    if (engineName === "sqlite") expect(retention.callsBefore % 3_600_000, "horizon mid-hour").toBe(45 * 60_000);
    // PostgreSQL drops whole months of calls: its horizon is the start of a UTC month.
    else expect(new Date(retention.callsBefore).toISOString()).toBe("2025-03-01T00:00:00.000Z");
    expect(retention.callsDeleted).toBeGreaterThan(0);
    await runRollupRebuild(engine.db, clock.now());
    await expectRandomQueriesMatch("edges, after retention mid-hour + rebuild", 30, randomEdgeQuery);
    await expectRandomQueriesMatch("edges, after retention mid-hour + rebuild, two columns", 30, randomPairEdgeQuery);
    await expectRandomQueriesMatch("after retention mid-hour + rebuild", 10);
    // A reprice of a range that starts and ends mid-hour rebuilds the hours and days around both
    // ends from the finer rows (a reprice rebuilds the rollups of its range).
    await engine.adminPrice(UNPRICED, "0.5", "1", "2025-03-01");
    expect(await engine.reprice("2025-03-09T05:15:00Z", "2025-03-30T13:45:00Z")).toBeGreaterThan(10);
    await syncTruth();
    await expectRandomQueriesMatch("edges, after a reprice from and to mid-hour", 30, randomEdgeQuery);
    await expectRandomQueriesMatch("edges, after a reprice from and to mid-hour, two columns", 20, randomPairEdgeQuery);
    await expectRandomQueriesMatch("after a reprice from and to mid-hour, two columns", 15, randomPairQuery);
  }, 120_000);

  it("applies a team / project / model filter (used by scoped reports) exactly", async () => {
    const calls = [...truth.values()];
    for (let i = 0; i < 20; i++) {
      const { q } = randomQuery(rand);
      const filter = [{ team: rand.pick(TEAMS) ?? "ads" }, { project: "alpha" }, { model: M70B }, { team: "search", model: M8B }][i % 4]!;
      const body = usageJson(await queryUsage(engine.db, { ...q, groupBy: q.groupBy as GroupKey[], filter }));
      const expected = bruteForceUsage(calls, { ...q, filter }, TOP_N);
      const context = `filter ${JSON.stringify(filter)} (seed ${SEED}): ${JSON.stringify(q)}`;
      expectOracleAnswer(body, expected, context);
    }
  });

  it("answers dimensions and filters among model / team / project / status from the pair or no-key-user family, exactly", async () => {
    const calls = [...truth.values()];
    const pairs = [["model", "team"], ["team", "model"], ["team", "project"], ["project", "status"], ["status", "model"], ["model"], ["team"], [], ["day", "team"]];
    const filters = [{}, { team: "search" }, { project: "alpha" }, { model: M70B }, { team: "ads", project: "beta" }, { team: "search", model: M8B }];
    const column = { model: "model", team: "team", project: "project", status: "status_class" } as const;
    const served = { oneDim: 0, twoDims: 0, noKeyUser: 0, everyDim: 0 };
    for (let i = 0; i < 32; i++) {
      const { q } = randomQuery(rand);
      const groupBy = rand.pick(pairs);
      const filter = i % 4 === 0 && groupBy.filter((g) => g in column).length === 2 ? {} : rand.pick(filters);
      const dims = groupBy.filter((g): g is keyof typeof column => g in column).map((g) => column[g]);
      const family = rollupFamily(dims, filter);
      // Expected independently: one column and no filter → dim, two columns → pair, more → narrow.
      const columns = new Set([...dims, ...Object.keys(filter)]).size;
      const context = `${JSON.stringify({ groupBy, filter })} (seed ${SEED}): ${JSON.stringify(q)}`;
      expect(family, context).toBe(dims.length <= 1 && Object.keys(filter).length === 0 ? "oneDim" : columns === 2 ? "twoDims" : "noKeyUser");
      served[family]++;
      const query = { ...q, groupBy };
      const body = usageJson(await queryUsage(engine.db, { ...query, groupBy: groupBy as GroupKey[], filter }));
      const expected = bruteForceUsage(calls, { ...query, filter }, TOP_N);
      expectOracleAnswer(body, expected, context);
    }
    expect(served.twoDims, JSON.stringify(served)).toBeGreaterThan(5);
    expect(served.noKeyUser, JSON.stringify(served)).toBeGreaterThan(5);
    // key and user are not in the no-key-user family: with a third column those read the all-dimensions levels.
    expect(rollupFamily(["model", "key_id"], { team: "search" })).toBe("everyDim");
    expect(rollupFamily(["user"], { team: "search", model: M8B })).toBe("everyDim");
  });

  it("serves the same rows as CSV (parsed back with csv-parse), formula cells neutralised", async () => {
    for (let i = 0; i < 8; i++) {
      const { path } = randomQuery(rand);
      const body = await engine.usage(path);
      const records = parseCsv(await engine.usageCsv(path), { columns: true, skip_empty_lines: true }) as Record<string, string>[];
      const expected = body.rows.map((row) => ({
        ...Object.fromEntries(body.group_by.map((k) => [k, neutralised(row.group[k] ?? null)])),
        // A key column is followed by its name (none are named here).
        ...(body.group_by.includes("key") ? { key_name: "" } : {}),
        ...Object.fromEntries(Object.entries(measuresOf(row)).map(([k, v]) => [k, String(v)])),
      }));
      expect(records, path).toEqual(expected);
    }
  });
});

function neutralised(v: string | null): string {
  if (v === null) return "";
  return /^[=+\-@\t\r]/.test(v) ? `'${v}` : v;
}

/**
 * Every hourly and daily pair row is rollup_every_dim_15m (the 15-minute truth, kept forever) summed
 * over that pair, hour or day: no row missing, extra, misaligned or double-counted, whichever
 * path wrote it (rollup, rebuild from the 15-minute rows, reprice).
 */
async function expectPairLevelsExact(db: Db, stage: string): Promise<void> {
  const measures = ["requests", "errors", "prompt_tokens", "completion_tokens", "cost_nano", "unpriced_requests", "duration_ms_sum"];
  for (const level of ROLLUP_LEVELS) {
    if (level.twoDims === null) continue;
    for (const pair of PAIRS) {
      // Compared in SQL (rows in one and not the other, both ways: the key is unique on each
      // side), as comparing thousands of rows in JS took ~0.5 s per stage.
      const stored = `SELECT bucket_start, a, b, ${measures.join(", ")} FROM ${level.twoDims} WHERE pair = '${pairName(pair)}'`;
      const truth = `SELECT bucket_start - bucket_start % ${level.width}, "${pair[0]}", "${pair[1]}", ${measures.map((m) => `SUM(${m})`).join(", ")} FROM rollup_every_dim_15m GROUP BY 1, 2, 3`;
      const diff = await db.all(
        sql.raw(`SELECT 'stored' AS side, s.* FROM (${stored} EXCEPT ${truth}) AS s UNION ALL SELECT 'truth', t.* FROM (${truth} EXCEPT ${stored}) AS t LIMIT 6`),
      );
      expect(diff, `${stage}: ${level.twoDims} ${pairName(pair)}`).toEqual([]);
    }
  }
}
