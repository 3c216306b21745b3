import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { sql } from "drizzle-orm";
import { afterAll, describe, expect, inject, it } from "vitest";
import { loadConfig } from "../../server/config.ts";
import { connectDatabase } from "../../server/db/connect.ts";
import { DemoError, resetDemoDatabase, seedDemoDatabase } from "../../server/demo/demo.ts";
import { createTestDatabase } from "../pg/throwaway-postgres.ts";
import { makeCall } from "../factories.ts";

// The demo's seeding (`npm run demo`, before the server starts) on SQLite and on PostgreSQL: the
// same seed and clock write the same history on both, priced alike; a seeded database is reused,
// one holding other calls is refused, and --reset starts a demo database over but refuses others.

const NOW = Date.UTC(2026, 10, 20, 15);
const dirs: string[] = [];
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

async function databaseUrl(engine: "sqlite" | "postgres"): Promise<{ url: string; drop(): Promise<void> }> {
  if (engine === "sqlite") {
    const dir = mkdtempSync(join(tmpdir(), "tollbooth-demo-seed-"));
    dirs.push(dir);
    return { url: join(dir, "demo.db"), drop: async () => {} };
  }
  return createTestDatabase(inject("pgAdminUrl"), "demo");
}

const configFor = (url: string) => loadConfig({ DATABASE_URL: url, UPSTREAM_BASE_URL: "http://127.0.0.1:9/v1", UPSTREAM_API_KEY: "sk-demo-price-sync-0000", LOG_LEVEL: "error" });

/** What the seeded history adds up to, read with the same SQL on either engine. */
async function summary(url: string) {
  const db = await connectDatabase(url, { poolMax: 1 });
  try {
    return await db.all<{ status: number; n: number; cost: string; tokens: number }>(
      // The sum as text: exact on both engines however large.
      sql`SELECT status, COUNT(*) AS n, CAST(COALESCE(SUM(cost_nano), 0) AS TEXT) AS cost, COALESCE(SUM(total_tokens), 0) AS tokens FROM calls GROUP BY status ORDER BY status`,
    );
  } finally {
    await db.close();
  }
}

describe("demo seeding on SQLite and PostgreSQL", () => {
  const seeded: Record<string, unknown> = {};

  it.each(["sqlite", "postgres"] as const)("%s: seeds once, priced; reuses it; --reset starts over", async (engine) => {
    const database = await databaseUrl(engine);
    try {
      const config = configFor(database.url);
      const first = await seedDemoDatabase(config, { days: 3, seed: 7, now: NOW });
      expect(first.seeded?.calls).toBeGreaterThan(1_000);
      expect(first.calls).toBe(first.seeded?.calls);
      const again = await seedDemoDatabase(config, { days: 3, seed: 7, now: NOW });
      expect(again).toEqual({ seeded: null, calls: first.calls });
      const totals = await summary(database.url);
      expect(totals.some((t) => BigInt(t.cost) > 0n)).toBe(true);
      seeded[engine] = totals;

      await resetDemoDatabase(database.url);
      const fresh = await seedDemoDatabase(config, { days: 1, seed: 7, now: NOW });
      expect(fresh.seeded?.calls).toBe(fresh.calls);
      expect(fresh.calls).toBeLessThan(first.calls);
    } finally {
      await database.drop();
    }
  }, 120_000);

  it("both engines hold the same history, to the nano-dollar", () => {
    expect(seeded.sqlite).toBeDefined();
    expect(seeded.postgres).toEqual(seeded.sqlite);
  });

  it.each(["sqlite", "postgres"] as const)("%s: a database with calls the demo did not write is neither seeded nor reset", async (engine) => {
    const database = await databaseUrl(engine);
    try {
      const db = await connectDatabase(database.url, { poolMax: 1 });
      const call = makeCall();
      await db.run(sql`INSERT INTO calls (request_id, created_at, endpoint, status, usage_source, duration_ms) VALUES (${call.requestId}, ${call.createdAt}, ${call.endpoint}, 200, 'none', 1)`);
      await db.close();
      await expect(seedDemoDatabase(configFor(database.url), { days: 1, now: NOW })).rejects.toThrow(/holds calls the demo did not write/);
      const refused = resetDemoDatabase(database.url);
      await expect(refused).rejects.toBeInstanceOf(DemoError);
      await expect(refused).rejects.toThrow(/not written by the demo; not deleting it/);
      expect(await summary(database.url)).toEqual([{ status: 200, n: 1, cost: "0", tokens: 0 }]);
    } finally {
      await database.drop();
    }
  });
});
