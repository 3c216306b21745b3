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
// and tested each against every piece: at 10M calls ~100 ms of a 30-day query by day.

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

/** `db`, with every statement that reads a rollup table also run under EXPLAIN ANALYZE into `plans`. */
function explaining(db: Db, plans: PlanNode[]): Db {
  const all = async <T,>(query: SQL): Promise<T[]> => {
    if (pgDialect.sqlToQuery(query).sql.includes("rollup_")) {
      const rows = await db.all<{ "QUERY PLAN": [{ Plan: PlanNode }] }>(sql`EXPLAIN (ANALYZE, FORMAT JSON) ${query}`);
      plans.push(rows[0]!["QUERY PLAN"][0].Plan);
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
    const plans: PlanNode[] = [];
    const report = await queryUsage(explaining(db, plans), { from, to, tz, groupBy: ["day", "model"] });
    expect(report.rows.length).toBe(30 * MODELS);
    // The top-values statement reads the whole range: whole UTC days from the daily rows (none
    // here) and its 24 other hours from the hourly ones. The aggregate reads each local day,
    // 24 UTC hours, from the hourly rows. Each hour's model rows are read once, no other.
    const context = plans.map((p) => JSON.stringify(p, null, 1)).join("\n").slice(0, 6000);
    expect(plans.map(rollupRowsRead), context).toEqual([24 * MODELS, 30 * 24 * MODELS]);
  });
});
