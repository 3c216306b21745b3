import { readFileSync } from "node:fs";
import { createServer } from "node:net";
import pg from "pg";
import { describe, expect, it } from "vitest";
import { loadConfig } from "../../server/config.ts";
import { engineFor, maskDatabaseUrl } from "../../server/db/engine.ts";
import { openPostgres, PostgresUnavailableError } from "../../server/db/postgres.ts";
import { testDatabaseUrl } from "../pg/database.ts";

async function closedPort(): Promise<number> {
  return new Promise((resolve) => {
    const server = createServer().listen(0, "127.0.0.1", () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

describe("engineFor (DATABASE_URL picks the engine)", () => {
  it("takes paths and file: URLs for SQLite, postgres:// and postgresql:// for PostgreSQL", () => {
    expect(engineFor("./data/tollbooth.db")).toEqual({ kind: "sqlite", path: "./data/tollbooth.db" });
    expect(engineFor("file:/var/lib/tb.db")).toEqual({ kind: "sqlite", path: "/var/lib/tb.db" });
    expect(engineFor("file:///var/lib/tb.db")).toEqual({ kind: "sqlite", path: "/var/lib/tb.db" });
    expect(engineFor("postgres://u:p@db:5432/tb")).toEqual({ kind: "postgres", url: "postgres://u:p@db:5432/tb" });
    expect(engineFor("PostgreSQL://db/tb").kind).toBe("postgres");
  });

  it("refuses other schemes instead of creating a file named after them", () => {
    expect(() => engineFor("mysql://u:p@db/tb")).toThrow(/DATABASE_URL: unsupported scheme "mysql:\/\/"/);
  });

  it("masks passwords in the user-info part and in a password= parameter", () => {
    expect(maskDatabaseUrl("postgres://tb:s3cr%40t@db:5432/tb")).toBe("postgres://tb:***@db:5432/tb");
    expect(maskDatabaseUrl("postgresql://db/tb?user=tb&password=s3cret&sslmode=require")).toBe("postgresql://db/tb?user=tb&password=***&sslmode=require");
    expect(maskDatabaseUrl("postgres://tb@db/tb")).toBe("postgres://tb@db/tb");
  });

  it("reads PG_POOL_MAX (default 10, at least 1)", () => {
    expect(loadConfig({}).PG_POOL_MAX).toBe(10);
    expect(loadConfig({ PG_POOL_MAX: "3" }).PG_POOL_MAX).toBe(3);
    expect(() => loadConfig({ PG_POOL_MAX: "0" })).toThrow(/^invalid config: PG_POOL_MAX/);
  });
});

describe("openPostgres", () => {
  it("migrates once when three instances open a fresh database at the same time", async () => {
    const url = await testDatabaseUrl("migrate");
    const opened = await Promise.all([1, 2, 3].map(() => openPostgres(url, { poolMax: 2 })));
    try {
      const applied = opened.map((o) => o.applied).sort();
      const all = JSON.parse(readFileSync(new URL("../../migrations-pg/meta/_journal.json", import.meta.url), "utf8")).entries.length as number;
      expect(applied).toEqual([0, 0, all]);
      const db = opened[0]!.db.$client;
      // The seed runs once: a second run would have doubled the catalog.
      const prices = await db.query<{ n: number; models: number }>("SELECT COUNT(*) AS n, COUNT(DISTINCT model) AS models FROM prices");
      expect(prices.rows[0]).toEqual({ n: 14, models: 14 });
      const month = new Date().toISOString().slice(0, 7).replace("-", "_");
      const parts = await db.query<{ name: string }>(
        "SELECT c.relname AS name FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid WHERE i.inhparent = 'calls'::regclass ORDER BY 1",
      );
      expect(parts.rows.map((r) => r.name)).toContain(`calls_${month}`);
      expect(parts.rows).toHaveLength(4); // this month and three ahead; no default partition
    } finally {
      await Promise.all(opened.map((o) => o.db.$client.end()));
    }
    // A later start finds nothing to apply.
    const again = await openPostgres(url, { poolMax: 1 });
    expect(again.applied).toBe(0);
    await again.db.$client.end();
  });

  it("fails at start with one message naming DATABASE_URL, password masked", async () => {
    const url = `postgres://tollbooth:hunter2-secret@127.0.0.1:${await closedPort()}/tollbooth`;
    const err = await openPostgres(url, { poolMax: 1, connectTimeoutMs: 2_000 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PostgresUnavailableError);
    const message = (err as Error).message;
    expect(message).toMatch(/^cannot connect to PostgreSQL at DATABASE_URL=postgres:\/\/tollbooth:\*\*\*@127\.0\.0\.1:\d+\/tollbooth: ECONNREFUSED/);
    expect(message).not.toContain("hunter2");
    expect(message).not.toContain("\n");
  });

  it("holds at most PG_POOL_MAX connections however many queries wait", async () => {
    const url = await testDatabaseUrl("pool");
    const { db } = await openPostgres(url, { poolMax: 2 });
    const watcher = new pg.Client({ connectionString: url });
    await watcher.connect();
    try {
      const database = new URL(url).pathname.slice(1);
      let most = 0;
      const sleeping = Promise.all(Array.from({ length: 6 }, () => db.$client.query("SELECT pg_sleep(0.15)")));
      const watching = (async () => {
        for (let i = 0; i < 12; i++) {
          const r = await watcher.query<{ n: number }>(
            "SELECT COUNT(*)::int AS n FROM pg_stat_activity WHERE datname = $1 AND application_name = 'tollbooth'",
            [database],
          );
          most = Math.max(most, r.rows[0]!.n);
          await new Promise((r) => setTimeout(r, 40));
        }
      })();
      await Promise.all([sleeping, watching]);
      expect(most).toBe(2);
    } finally {
      await watcher.end();
      await db.$client.end();
    }
  });

  it("reads bigint and SUM results as exact numbers, and refuses to round past 2^53", async () => {
    const url = await testDatabaseUrl("ints");
    const { db } = await openPostgres(url, { poolMax: 1, migrate: false });
    try {
      const ok = await db.$client.query("SELECT 9007199254740991::bigint AS max, SUM(x) AS total FROM (VALUES (4000000000::bigint), (5000000000)) v(x)");
      expect(ok.rows[0]).toEqual({ max: 9007199254740991, total: 9000000000 });
      await expect(db.$client.query("SELECT 9007199254740993::bigint AS big")).rejects.toThrow(/beyond 2\^53/);
    } finally {
      await db.$client.end();
    }
  });
});
