import { DateTime } from "luxon";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { usageJson } from "../../server/usage/usage-json.ts";
import { TOP_N, queryUsage, type GroupKey } from "../../server/usage/usage-query.ts";
import { startTestServer, type TestServer, ON_POSTGRES } from "../harness.ts";
import { bruteForceUsage, expectOracleAnswer, snapshotCalls, type Query } from "./brute-force-usage.ts";
import { prng, type Prng } from "./prng.ts";
import { fixedClock, getJson, recordCalls, spendCall } from "./spend-fixtures.ts";
import { sqliteClient } from "../../server/db/sqlite.ts";
import { rollUpAll } from "../pg/rollup-ready.ts";

// A large fresh tail (calls past the rollup watermark, computed from raw calls in one pass) that
// spans every hour of 90 days, many keys and users, and the instants either side of period
// boundaries (local midnights and hours, a DST change): /api/usage with hour × model over 90 days,
// key × user, day × team and the other shapes equals a brute-force sum over the raw calls, to the
// nano-dollar, and rolling the tail up changes no figure. A call the tail drops, counts twice
// (also one at the watermark, counted by the rollups too) or puts in the next or previous period
// changes a row. The tail is read from the per-connection cache (brought up to date with the
// calls recorded since the previous query) and, compared, from the raw calls in one SQL pass.

const NOW = "2025-11-14T10:07:00Z";
const DATA_FROM = Date.parse("2025-08-01T00:00:00Z");
const HOUR = 3_600_000;
const DAY = 86_400_000;
const MODELS = ["meta-llama/Llama-3.1-8B-Instruct", "meta-llama/Llama-3.3-70B-Instruct", "Qwen/QwQ-32B", "acme/unpriced-model", null];
const KEYS = Array.from({ length: 40 }, (_, i) => `key-${String(i).padStart(2, "0")}`);
const USERS = [...Array.from({ length: 30 }, (_, i) => `user-${i}`), null];
const TEAMS = ["search", "ads", "platform", null];
const PROJECTS = ["alpha", "beta", null];
const STATUSES = [200, 200, 200, 200, 429, 500, 499];

function call(r: Prng, createdAt: number) {
  const status = r.pick(STATUSES);
  const model = r.pick(MODELS);
  return spendCall({
    createdAt,
    model,
    endpoint: model ? "/v1/chat/completions" : "/v1/models",
    status,
    errorType: status >= 400 ? "upstream_error" : null,
    promptTokens: r.int(0, 5000),
    completionTokens: r.int(0, 3000),
    durationMs: r.int(10, 5000),
    // Skewed, and more keys and users than TOP_N, so breakdowns fold a long tail into "(other)".
    keyId: KEYS[Math.floor(r.next() ** 2 * KEYS.length)]!,
    user: USERS[Math.floor(r.next() ** 1.5 * USERS.length)]!,
    team: r.pick(TEAMS),
    project: r.pick(PROJECTS),
  });
}

/**
 * Let the event loop run timers after seconds of synchronous oracle work in this process: the
 * server's keep-alive timeout, overdue, then closes the idle connection before the next request
 * is written on it (else that request can fail with ECONNRESET on a busy machine).
 */
function settle(): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, 20));
}

/** [from, to) of the `days` local days in `tz` that end with the day before NOW's. */
function lastDays(days: number, tz: string): { from: number; to: number } {
  const end = DateTime.fromISO(NOW, { zone: tz }).startOf("day");
  return { from: end.minus({ days }).toMillis(), to: end.toMillis() };
}

describe("a large fresh tail over many buckets and pairs equals the brute-force sum", () => {
  const clock = fixedClock(NOW);
  const r = prng(20251114);
  let server: TestServer;

  beforeAll(async () => {
    server = await startTestServer({}, clock);
    const now = clock.now();
    // Rolled up: calls over the whole range, so every period has rollup rows and tail rows alike.
    await recordCalls(server, Array.from({ length: 1500 }, () => call(r, r.int(DATA_FROM, now - 1))));
    expect((await rollUpAll(server.db, now)).calls).toBe(1500);
    // The tail: late arrivals over the whole range, a dense last two days, and calls on the first
    // and last millisecond of hours and local days (New York, with its 2025-11-02 DST change,
    // Kolkata at +05:30), where a period computed one off would move them.
    const spread = Array.from({ length: 2500 }, () => call(r, r.int(DATA_FROM, now - 1)));
    const dense = Array.from({ length: 1000 }, () => call(r, r.int(now - 2 * DAY, now - 1)));
    const edges: number[] = [];
    for (let t = DATA_FROM + HOUR; t < now; t += 7 * HOUR) edges.push(t, t - 1);
    for (const tz of ["America/New_York", "Asia/Kolkata"]) {
      for (let day = DateTime.fromMillis(DATA_FROM, { zone: tz }).startOf("day").plus({ days: 1 }); day.toMillis() < now; day = day.plus({ days: 1 })) {
        edges.push(day.toMillis(), day.toMillis() - 1);
      }
    }
    await recordCalls(server, [...spread, ...dense, ...edges.map((t) => call(r, t))]);
  });

  afterAll(async () => {
    await server?.stop();
  });

  const shapes: [tz: string, days: number, groupBy: string[], filter?: Query["filter"]][] = [
    ["UTC", 90, ["hour", "model"]],
    ["America/New_York", 90, ["hour", "model"]],
    ["America/New_York", 90, ["model", "hour"]],
    ["Asia/Kolkata", 30, ["hour"]],
    ["UTC", 90, ["key", "user"]],
    ["Europe/London", 90, ["user", "key"]],
    ["America/New_York", 90, ["day", "team"]],
    ["Asia/Kathmandu", 90, ["week", "key"]],
    ["America/New_York", 100, ["month", "project"]],
    ["Asia/Kolkata", 90, ["day", "user"]],
    ["UTC", 90, ["status", "user"]],
    ["America/New_York", 90, ["day"], { team: "search" }],
    ["America/New_York", 30, ["hour", "key"], { model: "Qwen/QwQ-32B" }],
    ["Asia/Kolkata", 90, []],
  ];

  const path = (q: Query) => {
    const params = new URLSearchParams({ from: new Date(q.from).toISOString(), to: new Date(q.to).toISOString(), tz: q.tz });
    if (q.groupBy.length) params.set("group_by", q.groupBy.join(","));
    for (const [k, v] of Object.entries(q.filter ?? {})) params.set(k, v);
    return `/api/usage?${params}`;
  };
  const queries = shapes.map(([tz, days, groupBy, filter]): Query => ({ ...lastDays(days, tz), tz, groupBy, ...(filter ? { filter } : {}) }));
  const asked = new Map<string, unknown>();

  // Not run on PostgreSQL: SQLite's fresh-tail cache (PostgreSQL sums the tail in SQL).
  it.skipIf(ON_POSTGRES)("has a tail of thousands of calls over most hours of the 90 days", async () => {
    const watermark = sqliteClient(server.db).prepare("SELECT value FROM job_state WHERE name = 'rollup_watermark'").pluck().get() as number;
    const tail = (await snapshotCalls(server.db)).filter((c) => c.id > watermark);
    expect(tail.length).toBeGreaterThan(4000);
    expect(new Set(tail.map((c) => Math.floor(c.createdAt / HOUR))).size).toBeGreaterThan(1500);
  });

  it.each(queries.map((q) => [path(q), q] as const))("%s", async (url, q) => {
    const body = await getJson(server, url);
    expectOracleAnswer(body, bruteForceUsage((await snapshotCalls(server.db)), q, TOP_N), url);
    expect(body.rows.length, url).toBeGreaterThan(0);
    // The per-connection tail cache (the API's path) and one pass over the raw calls in SQL (its
    // fallback) give the same answer.
    const scanned = usageJson(await queryUsage(server.db, { ...q, groupBy: q.groupBy as GroupKey[] }, "scan"));
    expect(JSON.parse(JSON.stringify(scanned)), url).toEqual(body);
    asked.set(url, body);
    await settle();
  });

  it("brings the cached tail up to date with calls recorded since the last query (new values, old buckets, a filter on a new value)", async () => {
    const now = clock.now();
    const late = Array.from({ length: 300 }, () => call(r, r.int(DATA_FROM, now - 1)));
    const newcomers = Array.from({ length: 60 }, (_, i) => ({ ...call(r, r.int(now - 30 * DAY, now - 1)), keyId: `key-new-${i % 3}`, team: "newcomers" }));
    await recordCalls(server, [...late, ...newcomers]);
    const extra: Query[] = [
      ...queries.slice(0, 2),
      queries[4]!,
      { ...lastDays(30, "America/New_York"), tz: "America/New_York", groupBy: ["day", "key"], filter: { team: "newcomers" } },
      { ...lastDays(90, "UTC"), tz: "UTC", groupBy: ["team"] },
    ];
    for (const q of extra) {
      const url = path(q);
      const body = await getJson(server, url);
      expectOracleAnswer(body, bruteForceUsage((await snapshotCalls(server.db)), q, TOP_N), url);
      asked.set(url, body);
      await settle();
    }
  });

  it("answers the same, figure for figure, once the tail is rolled up", async () => {
    const fresh = new Map<string, unknown>();
    for (const url of asked.keys()) fresh.set(url, await getJson(server, url));
    expect((await rollUpAll(server.db, clock.now())).calls).toBeGreaterThan(4000);
    for (const [url, body] of fresh) expect(await getJson(server, url), url).toEqual(body);
  });
});
