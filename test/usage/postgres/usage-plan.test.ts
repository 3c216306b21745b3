import { type SQL, sql } from "drizzle-orm";
import { PgDialect } from "drizzle-orm/pg-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { connectDatabase } from "../../../server/db/connect.ts";
import type { Db } from "../../../server/db/database.ts";
import { queryUsage } from "../../../server/usage/usage-query.ts";
import { testDatabaseUrl } from "../../pg/database.ts";

// The usage query's plans on PostgreSQL: each rollup level is read one index range per piece of
// a period, so the rows read are those of the range asked, whatever else the table holds. Planned
// as an ordinary join, PostgreSQL read every hour of the dimension the table held (here 120 days)
// and tested each against every piece: ~100 ms of a 30-day query by day. And no statement is
// JIT-compiled: at 10M calls compiling took 30–100 ms for reads of ~10 ms.

const H = 3_600_000;
const DAYS = 120;
const MODELS = 10;
const START = Date.UTC(2026, 4, 1);

let db: Db;
beforeAll(async () => {
  db = await connectDatabase(await testDatabaseUrl("plan"), { poolMax: 2 });
  // Hourly rows of each dimension over 120 days, as many values per hour as 200k calls over
  // 90 days had (users and keys are sparse there), in no particular order, and statistics.
  for (const [dim, values] of [
    ["model", MODELS],
    ["team", 8],
    ["status_class", 3],
    ["project", 22],
    ["key_id", 28],
    ["user", 66],
  ] as const) {
    await db.run(sql`
      INSERT INTO rollup_one_dim_hour (dim, bucket_start, value, requests, cost_nano)
      SELECT ${dim}, ${START}::bigint + h * ${H}::bigint, ${`${dim}-`} || v, 1 + (h + v) % 7, 1000 * v
      FROM generate_series(0, ${DAYS * 24 - 1}) AS h, generate_series(1, ${values}) AS v ORDER BY md5(h || ' ' || v)`);
  }
  await db.run(sql`ANALYZE rollup_one_dim_hour`);
});
afterAll(() => db.close());

interface PlanNode {
  "Relation Name"?: string;
  "Actual Rows": number;
  "Actual Loops": number;
  "Rows Removed by Filter"?: number;
  "Rows Removed by Index Recheck"?: number;
  Plans?: PlanNode[];
}

const pgDialect = new PgDialect();

interface Explained {
  Plan: PlanNode;
  /** Present when the statement was JIT-compiled. */
  JIT?: unknown;
}

/**
 * `db`, with every statement that reads a rollup table also run under EXPLAIN ANALYZE into
 * `plans`, with JIT considered at any cost (where the database lets it compile at all).
 */
function explaining(db: Db, plans: Explained[]): Db {
  const all = async <T,>(query: SQL): Promise<T[]> => {
    if (pgDialect.sqlToQuery(query).sql.includes("rollup_")) {
      await db.run(sql`SET LOCAL jit_above_cost = 0`);
      const rows = await db.all<{ "QUERY PLAN": [Explained] }>(sql`EXPLAIN (ANALYZE, FORMAT JSON) ${query}`);
      plans.push(rows[0]!["QUERY PLAN"][0]);
    }
    return db.all<T>(query);
  };
  return {
    dialect: db.dialect,
    orm: db.orm,
    all,
    get: (query) => db.get(query),
    run: (query) => db.run(query),
    transaction: (fn, opts) => db.transaction((tx) => fn(explaining(tx, plans)), opts),
    close: () => db.close(),
  };
}

/** Rows the scans of rollup tables read (returned or filtered out), over all their loops. */
function rollupRowsRead(node: PlanNode): number {
  const own = node["Relation Name"]?.startsWith("rollup_")
    ? (node["Actual Rows"] + (node["Rows Removed by Filter"] ?? 0) + (node["Rows Removed by Index Recheck"] ?? 0)) * node["Actual Loops"]
    : 0;
  return own + (node.Plans ?? []).reduce((sum, child) => sum + rollupRowsRead(child), 0);
}

describe("usage query plans on PostgreSQL", () => {
  it.each([
    ["Europe/London", Date.UTC(2026, 5, 14, 23)],
    ["America/New_York", Date.UTC(2026, 5, 15, 4)],
  ])("reads only the hours of a 30-day range by day,model in %s", async (tz, from) => {
    const to = from + 30 * 24 * H;
    const explained: Explained[] = [];
    const report = await queryUsage(explaining(db, explained), { from, to, tz, groupBy: ["day", "model"] });
    const plans = explained.map((e) => e.Plan);
    expect(report.rows.length).toBe(30 * MODELS);
    // The top-values statement reads the whole range: whole UTC days from the daily rows (none
    // here) and its 24 other hours from the hourly ones. The aggregate reads each local day,
    // 24 UTC hours, from the hourly rows. Each hour's model rows are read once, no other.
    const context = plans.map((p) => JSON.stringify(p, null, 1)).join("\n").slice(0, 6000);
    expect(plans.map(rollupRowsRead), context).toEqual([24 * MODELS, 30 * 24 * MODELS]);
  });

  it("never JIT-compiles a usage statement, whatever its estimated cost", async () => {
    // The control: this server can JIT-compile, and does at jit_above_cost = 0 with jit on (the
    // default), so the usage statements below are compiled unless the query turns jit off.
    const available = await db.get<{ on: boolean }>(sql`SELECT pg_jit_available() AS on`);
    expect(available?.on, "this PostgreSQL has no JIT provider (llvmjit); the test would prove nothing").toBe(true);
    const from = Date.UTC(2026, 5, 14, 18, 30); // a day in Asia/Kolkata: 15-minute edges, hours and days
    const compiled = await db.transaction(async (tx) => {
      await tx.run(sql`SET LOCAL jit_above_cost = 0`);
      return tx.all<{ "QUERY PLAN": [Explained] }>(sql`EXPLAIN (ANALYZE, FORMAT JSON) SELECT SUM(requests) FROM rollup_one_dim_hour WHERE dim = 'model'`);
    });
    expect(compiled[0]!["QUERY PLAN"][0].JIT).toBeDefined();

    const explained: Explained[] = [];
    await queryUsage(explaining(db, explained), { from, to: from + 30 * 24 * H, tz: "Asia/Kolkata", groupBy: ["day", "model"] });
    expect(explained).toHaveLength(2);
    for (const e of explained) expect(e.JIT).toBeUndefined();
  });
});
