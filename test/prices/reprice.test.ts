import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runRetention } from "../../jobs/retention.ts";
import { startTestServer, type TestServer, ON_POSTGRES } from "../harness.ts";
import type { UsageJson } from "../../server/usage/usage-json.ts";
import { fixedClock, getJson, recordCalls, spendCall } from "../usage/spend-fixtures.ts";
import { sqliteClient } from "../../server/db/sqlite.ts";
import { rollUpAll } from "../pg/rollup-ready.ts";

// A price added or fixed later re-prices past calls on request, and rollups follow
// (docs/architecture.md, "Prices are effective-dated").

const LATE = "acme/late-priced";
const M8B = "meta-llama/Llama-3.1-8B-Instruct";

describe("POST /api/prices/reprice", () => {
  const clock = fixedClock("2025-03-20T10:00:00Z");
  let server: TestServer;
  const post = (path: string, body?: unknown) =>
    server.api(path, { method: "POST", headers: { "content-type": "application/json" }, body: body === undefined ? undefined : JSON.stringify(body) });
  const byModel = async () => {
    const body = await getJson<UsageJson>(server, "/api/usage?from=2025-03-01&to=2025-04-01&group_by=model");
    return Object.fromEntries(body.rows.map((r) => [r.group.model, [r.cost_usd, r.unpriced_requests]]));
  };
  const bucketCost = () => sqliteClient(server.db).prepare("SELECT SUM(cost_nano) FROM rollup_every_dim_15m").pluck().get();

  beforeAll(async () => {
    server = await startTestServer({}, clock);
    await recordCalls(server, [
      ...[1, 2, 3].map(() => spendCall({ model: LATE, createdAt: Date.parse("2025-03-05T08:00:00Z"), promptTokens: 1_000_000, completionTokens: 0 })),
      spendCall({ model: M8B, createdAt: Date.parse("2025-03-06T08:00:00Z"), promptTokens: 1_000_000, completionTokens: 1_000_000 }),
    ]);
    await rollUpAll(server.db, clock.now());
  });
  afterAll(async () => {
    await server?.stop();
  });

  it("counts a model without a price as unpriced, not free", async () => {
    expect(await byModel()).toEqual({ [M8B]: ["0.060000000", 0], [LATE]: ["0.000000000", 3] });
  });

  // Not run on PostgreSQL: SQLite fixtures; on PostgreSQL retention drops whole months, so its horizon differs (tested in test/usage/usage.property.test.ts).
  it.skipIf(ON_POSTGRES)("leaves recorded costs alone when a price is added, until a reprice covers them", async () => {
    const res = await post("/api/prices", { model: LATE, input_usd_per_mtok: "0.5", output_usd_per_mtok: "1", effective_from: "2025-03-01" });
    expect(res.status).toBe(201);
    expect(await byModel()).toEqual({ [M8B]: ["0.060000000", 0], [LATE]: ["0.000000000", 3] });

    const repriced = await post("/api/prices/reprice?from=2025-03-01&to=2025-03-21");
    expect(await repriced.json()).toEqual({ from: "2025-03-01T00:00:00.000Z", to: "2025-03-21T00:00:00.000Z", calls_scanned: 4, calls_repriced: 3 });
    expect(await byModel()).toEqual({ [M8B]: ["0.060000000", 0], [LATE]: ["1.500000000", 0] });
    // The buckets themselves were rebuilt (the answer is not just the raw tail).
    expect(bucketCost()).toBe(1_560_000_000);
  });

  // Not run on PostgreSQL: SQLite fixtures; on PostgreSQL retention drops whole months, so its horizon differs (tested in test/usage/usage.property.test.ts).
  it.skipIf(ON_POSTGRES)("is idempotent", async () => {
    const again = await post("/api/prices/reprice?from=2025-03-01&to=2025-03-21");
    expect((await again.json()).calls_repriced).toBe(0);
    expect(await byModel()).toEqual({ [M8B]: ["0.060000000", 0], [LATE]: ["1.500000000", 0] });
    expect(bucketCost()).toBe(1_560_000_000);
  });

  // Not run on PostgreSQL: SQLite fixtures; on PostgreSQL retention drops whole months, so its horizon differs (tested in test/usage/usage.property.test.ts).
  it.skipIf(ON_POSTGRES)("applies a price fix to a priced model only inside the range", async () => {
    await post("/api/prices", { model: M8B, input_usd_per_mtok: "0.1", output_usd_per_mtok: "0.1", effective_from: "2025-03-06" });
    await post("/api/prices/reprice?from=2025-03-01&to=2025-03-06");
    expect((await byModel())[M8B]).toEqual(["0.060000000", 0]);
    await post("/api/prices/reprice?from=2025-03-06&to=2025-03-07");
    expect((await byModel())[M8B]).toEqual(["0.200000000", 0]);
    await rollUpAll(server.db, clock.now());
    expect(bucketCost()).toBe(1_700_000_000);
  });

  it.each([
    ["/api/prices/reprice?from=2025-03-01", "to: is required"],
    ["/api/prices/reprice?from=2025-03-01T00:07:00&to=2025-03-02", "from: "],
    ["/api/prices/reprice?from=2025-03-02&to=2025-03-01", "from: must be before to"],
    ["/api/prices/reprice?from=2025-03-01&to=2025-03-02&model=x", "model: unknown parameter"],
  ])("rejects %s", async (path, message) => {
    const res = await post(path);
    const body = await res.json();
    expect(res.status).toBe(400);
    expect(body.error.message).toContain(message);
  });

  // Not run on PostgreSQL: SQLite fixtures; on PostgreSQL retention drops whole months, so its horizon differs (tested in test/usage/usage.property.test.ts).
  it.skipIf(ON_POSTGRES)("refuses ranges whose raw calls retention has deleted", async () => {
    const result = await runRetention(server.db, clock.now(), { bodiesDays: 30, callsDays: 10 });
    expect(result.callsDeleted).toBe(4);
    const res = await post("/api/prices/reprice?from=2025-03-01&to=2025-03-21");
    expect(res.status).toBe(400);
    expect((await res.json()).error.code).toBe("before_retention");
    // Totals survive the deletion.
    expect(await byModel()).toEqual({ [M8B]: ["0.200000000", 0], [LATE]: ["1.500000000", 0] });
  });
});
