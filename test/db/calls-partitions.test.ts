import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { drizzle } from "drizzle-orm/node-postgres";
import { migrate } from "drizzle-orm/node-postgres/migrator";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openPostgres, type PgDb } from "../../server/db/postgres.ts";
import { writeCallBatch } from "../../server/recorder/pg-insert.ts";
import { testDatabaseUrl } from "../pg/database.ts";

// calls on PostgreSQL: one partition per UTC month and no default one (migrations-pg/0001, 0008),
// made ahead of time by tollbooth_ensure_calls_partitions, or by the recorder for a call of a
// month that has none yet. Retention's drops: test/db/calls-retention-pg.test.ts.

let db: PgDb;
beforeAll(async () => {
  db = (await openPostgres(await testDatabaseUrl("parts"), { poolMax: 2 })).db;
});
afterAll(() => db.$client.end());

const insertSql = `INSERT INTO calls (request_id, created_at, endpoint, status, usage_source, duration_ms)
     VALUES ($1, $2, '/v1/chat/completions', 200, 'upstream', 5) RETURNING id`;

async function partitionOf(client: pg.ClientBase | pg.Pool, requestId: string): Promise<string | undefined> {
  const r = await client.query<{ p: string }>("SELECT tableoid::regclass::text AS p FROM calls WHERE request_id = $1", [requestId]);
  return r.rows[0]?.p;
}

const FEB_2020 = Date.UTC(2020, 1, 1);
const call = (requestId: string, createdAt: number) => ({
  call: { requestId, createdAt, endpoint: "/v1/chat/completions", status: 200, usageSource: "upstream" as const, durationMs: 5 },
});

describe("calls partitions", () => {
  it("refuses a plain insert of a month without a partition; the recorder's batch makes the month, at UTC boundaries", async () => {
    await expect(db.$client.query(insertSql, ["jan-last-ms", FEB_2020 - 1])).rejects.toThrow('no partition of relation "calls" found for row');
    const client = await db.$client.connect();
    try {
      expect(await writeCallBatch(client, [call("jan-last-ms", FEB_2020 - 1), call("feb-first-ms", FEB_2020)])).toBe(2);
    } finally {
      client.release();
    }
    expect(await partitionOf(db.$client, "jan-last-ms")).toBe("calls_2020_01");
    expect(await partitionOf(db.$client, "feb-first-ms")).toBe("calls_2020_02");
    // Idempotent: a second call (another instance, the next job run) creates nothing.
    const again = await db.$client.query<{ n: number }>("SELECT tollbooth_ensure_calls_partitions($1, 1) AS n", [Date.UTC(2020, 0, 15)]);
    expect(again.rows[0]!.n).toBe(0);
  });

  it("keeps request_id unique per call: a replayed row with its own created_at is rejected", async () => {
    await expect(db.$client.query(insertSql, ["feb-first-ms", FEB_2020])).rejects.toThrow(/calls_request_id_uq|duplicate key/);
  });
});

describe("upgrading a database that has the default partition", () => {
  let url: string;
  beforeAll(async () => {
    url = await testDatabaseUrl("upgrade");
  });

  it("moves its rows into month partitions and drops it", async () => {
    // The migrations up to the one that drops the default partition, from a copy of the folder.
    const dir = mkdtempSync(join(tmpdir(), "tollbooth-migrations-"));
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    try {
      cpSync(new URL("../../migrations-pg", import.meta.url), dir, { recursive: true });
      const journal = JSON.parse(readFileSync(join(dir, "meta/_journal.json"), "utf8")) as { entries: { tag: string }[] };
      journal.entries = journal.entries.slice(0, journal.entries.findIndex((e) => e.tag === "0008_calls_without_default_partition"));
      writeFileSync(join(dir, "meta/_journal.json"), JSON.stringify(journal));
      await migrate(drizzle({ client }), { migrationsFolder: dir });
      await client.query(insertSql, ["stray-2019", Date.UTC(2019, 6, 4)]);
      expect(await partitionOf(client, "stray-2019")).toBe("calls_default");

      const opened = await openPostgres(url, { poolMax: 1 });
      await opened.db.$client.end();
      expect(await partitionOf(client, "stray-2019")).toBe("calls_2019_07");
      expect((await client.query("SELECT to_regclass('calls_default') AS t")).rows[0].t).toBeNull();
    } finally {
      await client.end();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
