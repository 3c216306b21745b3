import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openPostgres, type PgDb } from "../../server/db/postgres.ts";
import { testDatabaseUrl } from "../pg/database.ts";

// calls on PostgreSQL: one partition per UTC month plus a default one (migrations-pg/0001), made
// ahead of time by tollbooth_ensure_calls_partitions and dropped whole by
// tollbooth_drop_calls_partitions once every row in them is rolled up.

let db: PgDb;
beforeAll(async () => {
  db = (await openPostgres(await testDatabaseUrl("parts"), { poolMax: 2 })).db;
});
afterAll(() => db.$client.end());

async function insertCall(requestId: string, createdAt: number): Promise<{ id: number; xid: number }> {
  const r = await db.$client.query<{ id: number; xid: number }>(
    `INSERT INTO calls (request_id, created_at, endpoint, status, usage_source, duration_ms)
     VALUES ($1, $2, '/v1/chat/completions', 200, 'upstream', 5) RETURNING id, commit_xid AS xid`,
    [requestId, createdAt],
  );
  return r.rows[0]!;
}

async function partitionOf(requestId: string): Promise<string | undefined> {
  const r = await db.$client.query<{ p: string }>("SELECT tableoid::regclass::text AS p FROM calls WHERE request_id = $1", [requestId]);
  return r.rows[0]?.p;
}

const FEB_2020 = Date.UTC(2020, 1, 1);

describe("calls partitions", () => {
  it("puts a row of a month without a partition in the default one, and moves it when that month's partition is made", async () => {
    await insertCall("jan-last-ms", FEB_2020 - 1);
    await insertCall("feb-first-ms", FEB_2020);
    expect(await partitionOf("jan-last-ms")).toBe("calls_default");

    const created = await db.$client.query<{ n: number }>("SELECT tollbooth_ensure_calls_partitions($1, 1) AS n", [Date.UTC(2020, 0, 15)]);
    expect(created.rows[0]!.n).toBe(2);
    // UTC month boundaries, to the millisecond.
    expect(await partitionOf("jan-last-ms")).toBe("calls_2020_01");
    expect(await partitionOf("feb-first-ms")).toBe("calls_2020_02");
    const left = await db.$client.query<{ n: number }>("SELECT COUNT(*) AS n FROM calls_default");
    expect(left.rows[0]!.n).toBe(0);
    // Idempotent: a second call (another instance, the next job run) creates nothing.
    const again = await db.$client.query<{ n: number }>("SELECT tollbooth_ensure_calls_partitions($1, 1) AS n", [Date.UTC(2020, 0, 15)]);
    expect(again.rows[0]!.n).toBe(0);
  });

  it("keeps request_id unique per call: a replayed row with its own created_at is rejected", async () => {
    await expect(insertCall("feb-first-ms", FEB_2020)).rejects.toThrow(/calls_request_id_uq|duplicate key/);
  });

  it("drops whole months before the horizon, with their bodies, only once their rows are rolled up", async () => {
    const old = await insertCall("jan-second", Date.UTC(2020, 0, 20));
    await db.$client.query("INSERT INTO call_bodies (call_id, request_body) VALUES ($1, '{}')", [old.id]);
    const drop = async (watermark: number) =>
      (await db.$client.query<{ name: string }>("SELECT tollbooth_drop_calls_partitions($1, $2) AS name", [FEB_2020, watermark])).rows.map((r) => r.name);

    // A watermark at the row's own transaction: not rolled up yet, so January stays.
    expect(await drop(old.xid)).toEqual([]);
    expect(await partitionOf("jan-second")).toBe("calls_2020_01");

    expect(await drop(old.xid + 1)).toEqual(["calls_2020_01"]);
    expect(await partitionOf("jan-second")).toBeUndefined();
    expect(await partitionOf("jan-last-ms")).toBeUndefined();
    expect(await partitionOf("feb-first-ms")).toBe("calls_2020_02"); // ends after the horizon
    const bodies = await db.$client.query<{ n: number }>("SELECT COUNT(*) AS n FROM call_bodies WHERE call_id = $1", [old.id]);
    expect(bodies.rows[0]!.n).toBe(0);
  });
});
