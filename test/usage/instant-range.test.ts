import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runRetention } from "../../jobs/retention.ts";
import { startTestServer, type TestServer, ON_POSTGRES } from "../harness.ts";
import type { UsageJson } from "../../server/usage/usage-json.ts";
import { queryUsage } from "../../server/usage/usage-query.ts";
import { sqliteClient } from "../../server/db/sqlite.ts";
import { usageJson } from "../../server/usage/usage-json.ts";
import { fixedClock, getJson, recordCalls, spendCall } from "./spend-fixtures.ts";
import { rollUpAll } from "../pg/rollup-ready.ts";

// /api/usage, /api/usage.csv and /api/prices/reprice take any instant: whole buckets come from the
// rollups, the partial edges from raw calls, and an edge whose raw calls retention deleted is
// rounded outward (and the answer says so).

const MIN = 60_000;
const BASE = Date.parse("2025-03-10T10:00:00Z");
const MODELS = ["meta-llama/Llama-3.1-8B-Instruct", "Qwen/Qwen3-32B"];

// A call every 7 minutes and 13 seconds plus a few milliseconds over 6 hours, alternating models,
// prompt tokens varying: edges at any millisecond cut through buckets with calls on both sides.
const CALLS = Array.from({ length: 50 }, (_, i) =>
  spendCall({ createdAt: BASE + i * (7 * MIN + 13_000) + (i % 7), model: MODELS[i % 2]!, promptTokens: 1000 + i * 37, completionTokens: 200 + i }),
);

describe("usage at any instant", () => {
  const clock = fixedClock("2025-03-20T10:00:00Z");
  let server: TestServer;
  // The raw truth, from the calls table.
  const rawRequests = (from: number, to: number) =>
    sqliteClient(server.db).prepare("SELECT COUNT(*) FROM calls WHERE created_at >= ? AND created_at < ?").pluck().get(from, to) as number;
  const rawCostNano = (from: number, to: number) =>
    BigInt(sqliteClient(server.db).prepare("SELECT COALESCE(SUM(cost_nano), 0) FROM calls WHERE created_at >= ? AND created_at < ?").pluck().get(from, to) as number);
  const usd = (s: string) => BigInt(s.replace(".", ""));

  beforeAll(async () => {
    server = await startTestServer({}, clock);
    await recordCalls(server, CALLS.slice(0, 35));
    await rollUpAll(server.db, clock.now());
    // The rest past the rollup watermark: the fresh tail is cut at the edges too.
    await recordCalls(server, CALLS.slice(35));
  });
  afterAll(async () => {
    await server?.stop();
  });

  // Not run on PostgreSQL: SQLite fixtures; on PostgreSQL retention drops whole months, so its horizon differs.
  it.skipIf(ON_POSTGRES)("answers ranges at arbitrary milliseconds exactly, from rollups, tail and raw edges", async () => {
    const edges = [BASE - 1, BASE + 3, BASE + 7 * MIN + 13_001, BASE + 61 * MIN + 4_321, BASE + 200 * MIN + 999, BASE + 250 * MIN + 13_001, BASE + 361 * MIN + 7];
    for (const from of edges) {
      for (const to of edges) {
        if (to <= from) continue;
        const iso = (ms: number) => new Date(ms).toISOString();
        const body = await getJson<UsageJson>(server, `/api/usage?from=${iso(from)}&to=${iso(to)}&group_by=model`);
        const context = `${iso(from)} .. ${iso(to)}`;
        expect([body.from, body.to, body.rounded], context).toEqual([iso(from), iso(to), undefined]);
        expect(body.totals.requests, context).toBe(rawRequests(from, to));
        expect(usd(body.totals.cost_usd), context).toBe(rawCostNano(from, to));
        // The raw-call scan of the tail (no cache) gives the same answer.
        const scanned = usageJson(await queryUsage(server.db, { from, to, tz: "UTC", groupBy: ["model"] }, "scan"));
        expect(scanned.totals, context).toEqual(body.totals);
      }
    }
  });

  // Not run on PostgreSQL: SQLite fixtures; on PostgreSQL retention drops whole months, so its horizon differs.
  it.skipIf(ON_POSTGRES)("splits an unaligned range into calendar periods, the first and last cut at the instants", async () => {
    const from = BASE + 17 * MIN + 5_123; // 10:17:05.123
    const to = BASE + 185 * MIN + 1; // 13:05:00.001
    const body = await getJson<UsageJson>(server, `/api/usage?from=${new Date(from).toISOString()}&to=${new Date(to).toISOString()}&group_by=hour,model`);
    const perHour = new Map<string, number>();
    for (const row of body.rows) perHour.set(row.group.hour!, (perHour.get(row.group.hour!) ?? 0) + row.requests);
    const hour = (h: number) => Date.parse(`2025-03-10T${h}:00:00Z`);
    expect(Object.fromEntries(perHour)).toEqual({
      "2025-03-10T10:00+00:00": rawRequests(from, hour(11)),
      "2025-03-10T11:00+00:00": rawRequests(hour(11), hour(12)),
      "2025-03-10T12:00+00:00": rawRequests(hour(12), hour(13)),
      "2025-03-10T13:00+00:00": rawRequests(hour(13), to),
    });
  });

  it("takes a call's own created_at, and the CSV takes it too", async () => {
    const call = CALLS[20]!;
    const at = new Date(call.createdAt).toISOString();
    const body = await getJson<UsageJson>(server, `/api/usage?from=${at}&to=${new Date(call.createdAt + 1).toISOString()}`);
    expect(body.totals.requests).toBe(1);
    const csv = await server.api(`/api/usage.csv?from=${at}&to=${new Date(call.createdAt + 1).toISOString()}`);
    expect(csv.status).toBe(200);
  });

  // Not run on PostgreSQL: SQLite fixtures; on PostgreSQL retention drops whole months, so its horizon differs.
  it.skipIf(ON_POSTGRES)("re-prices a range ending now, at the current millisecond", async () => {
    clock.set(Date.parse("2025-03-20T10:07:31.456Z"));
    const res = await server.api(`/api/prices/reprice?from=2025-03-10T10:17:05.123Z&to=${new Date(clock.now()).toISOString()}`, { method: "POST" });
    expect(res.status, await res.clone().text()).toBe(200);
    expect(await res.json()).toMatchObject({ from: "2025-03-10T10:17:05.123Z", to: "2025-03-20T10:07:31.456Z", calls_scanned: rawRequests(BASE + 17 * MIN + 5_123, clock.now()) });
    // The buckets around the unaligned edges were rebuilt whole: rollups still hold every rolled-up call once.
    const rolledUp = sqliteClient(server.db).prepare("SELECT SUM(requests) FROM rollup_every_dim_15m").pluck().get();
    expect(rolledUp).toBe(rawRequests(0, Number.MAX_SAFE_INTEGER));
  });

  // Not run on PostgreSQL: SQLite fixtures; on PostgreSQL retention drops whole months, so its horizon differs.
  it.skipIf(ON_POSTGRES)("rounds an edge outward where retention deleted its raw calls, and says so", async () => {
    clock.set(Date.parse("2025-03-20T10:00:00Z"));
    // Horizon 2025-03-10T11:00Z: calls before it are gone, their rollups kept.
    await runRetention(server.db, Date.parse("2025-03-20T11:00:00Z"), { bodiesDays: 10, callsDays: 10 });
    const body = await getJson<UsageJson>(server, "/api/usage?from=2025-03-10T10:20:00.500Z&to=2025-03-10T12:10:00Z");
    expect([body.from, body.to, body.rounded]).toEqual(["2025-03-10T10:15:00.000Z", "2025-03-10T12:10:00.000Z", true]);
    const rolled = CALLS.filter((c) => c.createdAt >= Date.parse("2025-03-10T10:15:00Z") && c.createdAt < Date.parse("2025-03-10T12:10:00Z"));
    expect(body.totals.requests).toBe(rolled.length);
  });
});
