import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { failureGroups } from "../../server/requests/failures.ts";
import { makeCall } from "../factories.ts";
import { startTestServer, type TestServer, ON_POSTGRES } from "../harness.ts";
import { record } from "../pages/page-client.ts";
import { sqliteClient } from "../../server/db/sqlite.ts";

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer();
});
afterAll(async () => {
  await server?.stop();
});

const HOUR = 3_600_000;

describe("failureGroups", () => {
  // Not run on PostgreSQL: SQLite fixtures and SQLite's query plan.
  it.skipIf(ON_POSTGRES)("counts per group inside the window, with first/last seen, newest example and a histogram", async () => {
    const to = Date.UTC(2031, 0, 2);
    const from = to - 24 * HOUR;
    const m = "fq-model";
    await record(
      server,
      { call: makeCall({ model: m, status: 429, errorType: "insufficient_credit", createdAt: from + 1 * HOUR }) },
      { call: makeCall({ model: m, status: 429, errorType: "insufficient_credit", createdAt: from + 1 * HOUR + 5 }) },
      { call: makeCall({ model: m, status: 429, errorType: "insufficient_credit", createdAt: from + 23 * HOUR }) },
      { call: makeCall({ model: null, status: 502, errorType: "upstream_unreachable", createdAt: from + 2 * HOUR }) },
      { call: makeCall({ model: m, status: 200, errorType: "server_error", createdAt: from + 3 * HOUR }) }, // error inside a stream
      { call: makeCall({ model: m, status: 200, createdAt: from + 4 * HOUR }) }, // success: not a failure
      { call: makeCall({ model: m, status: 429, errorType: "insufficient_credit", createdAt: from - 1 }) }, // before the window
    );
    const report = await failureGroups(server.db, { from, to, limit: 10, slots: 24 });
    expect(report.total).toBe(5);
    const g = report.groups[0]!;
    expect(g).toMatchObject({ status: 429, errorType: "insufficient_credit", model: m, count: 3, firstSeen: from + HOUR, lastSeen: from + 23 * HOUR });
    expect(g.histogram).toHaveLength(24);
    expect(g.histogram[1]).toBe(2);
    expect(g.histogram[23]).toBe(1);
    expect(g.histogram.reduce((a, b) => a + b, 0)).toBe(3);
    expect(report.groups.map((x) => [x.status, x.model])).toEqual(expect.arrayContaining([[502, null], [200, m]]));
    const example = sqliteClient(server.db).prepare("SELECT created_at FROM calls WHERE id = ?").pluck().get(g.exampleId);
    expect(example).toBe(from + 23 * HOUR);
  });

  it("keeps only the top N groups but counts every failure", async () => {
    const to = Date.UTC(2032, 0, 2);
    const from = to - HOUR;
    await record(server, ...Array.from({ length: 30 }, (_, i) => ({ call: makeCall({ model: `storm-${i}`, status: 404, errorType: "not_found", createdAt: from + i }) })));
    const report = await failureGroups(server.db, { from, to, limit: 5, slots: 12 });
    expect(report.groups).toHaveLength(5);
    expect(report.total).toBe(30);
  });

  it("groups only the newest maxGrouped failures when the window holds more, and says since when", async () => {
    const to = Date.UTC(2034, 0, 2);
    const from = to - 24 * HOUR;
    await record(
      server,
      ...Array.from({ length: 40 }, (_, i) => ({
        call: makeCall({ model: i < 30 ? "capped-old" : "capped-new", status: 503, errorType: "server_error", createdAt: from + i * HOUR / 2 }),
      })),
    );
    const report = await failureGroups(server.db, { from, to, limit: 10, slots: 12, maxGrouped: 15 });
    expect(report.total).toBe(40);
    expect(report.grouped).toBe(15);
    expect(report.groupedFrom).toBe(from + 25 * (HOUR / 2));
    expect(report.groups.map((g) => [g.model, g.count])).toEqual([
      ["capped-new", 10],
      ["capped-old", 5],
    ]);
    expect(report.groups[1]!.firstSeen).toBe(report.groupedFrom);
    expect(report.groups.flatMap((g) => g.histogram).reduce((a, b) => a + b, 0)).toBe(15);

    const whole = await failureGroups(server.db, { from, to, limit: 10, slots: 12 });
    expect(whole).toMatchObject({ total: 40, grouped: 40, groupedFrom: from });
  });

  // Not run on PostgreSQL: SQLite fixtures and SQLite's query plan.
  it.skipIf(ON_POSTGRES)("reads the failed-calls partial index, never a full scan of calls", async () => {
    const plan = sqliteClient(server.db)
      .prepare("EXPLAIN QUERY PLAN SELECT status, error_type, model, COUNT(*) FROM calls WHERE (status >= 400 OR error_type IS NOT NULL) AND created_at >= 1 AND created_at < 2 GROUP BY 1, 2, 3")
      .all() as Array<{ detail: string }>;
    expect(plan.map((p) => p.detail).join("\n")).toContain("USING INDEX calls_failed_created_idx");
  });
});
