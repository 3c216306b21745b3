import Database from "better-sqlite3";
import { drizzle } from "drizzle-orm/better-sqlite3";
import { migrate } from "drizzle-orm/better-sqlite3/migrator";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { runRollup } from "../../jobs/rollup.ts";
import { openDatabase, type Db } from "../../server/db/open.ts";
import { DIMENSIONS, TOP_N, queryUsage, type DimensionKey, type GroupKey, type UsageParams } from "../../server/usage/usage-query.ts";
import { usageJson } from "../../server/usage/usage-json.ts";
import { rollupFamily } from "../../server/usage/usage-sql.ts";
import { ROLLUP_LEVELS } from "../../server/usage/rollups/rollup-levels.ts";
import { bruteForceUsage, expectOracleAnswer, snapshotCalls } from "./brute-force-usage.ts";
import { migrationsUpTo } from "./old-migrations.ts";
import { prng } from "./prng.ts";
import { sqliteClient } from "../../server/db/sqlite.ts";

// Migration 0010 on a database rolled up before the two-dimension family existed: it must answer every
// two-column question at once and exactly as a database whose pair rows the rollup wrote itself.
// A is migrated to the end and rolled up; B is built at 0009 with A's calls and A's other rollup
// families (what the rollup wrote before 0010), then opened, which applies 0010 and backfills the
// hourly and daily pair rows (there is no 15-minute pair level: the questions' ranges, in :45 and
// :30 zones, read their 15-minute edges from the no-key-user or every-dimension rows).

const DAY = 86_400_000;
const FROM = Date.parse("2025-03-01T00:00:00Z");
const NOW = FROM + 20 * DAY;
const KEYS = Array.from({ length: 25 }, (_, i) => `key-${i}`); // more than TOP_N, so keys fold
const PAIRS_ASKED: { groupBy: GroupKey[]; filter?: UsageParams["filter"] }[] = [
  { groupBy: ["team", "model"] },
  { groupBy: ["model", "team"] },
  { groupBy: ["key", "user"] },
  { groupBy: ["user", "key"] },
  { groupBy: ["status", "project"] },
  { groupBy: ["user"], filter: { team: "search" } },
  { groupBy: ["day", "key"], filter: { model: "m2" } },
  { groupBy: [], filter: { team: "ads", project: "beta" } },
];

describe("migration 0010 on a database rolled up before it", () => {
  const dir = mkdtempSync(join(tmpdir(), "tollbooth-pairs-"));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("backfills the two-dimension family so two-column answers equal the rollup's own and the raw calls, to the nano-dollar", async () => {
    const a = openDatabase(join(dir, "a.db"));
    insertRandomCalls(a, 4_000, 1, FROM, NOW);
    await runRollup(a, NOW);
    insertRandomCalls(a, 100, 2, FROM, NOW); // past the watermark: the fresh tail
    sqliteClient(a).close();

    const bPath = join(dir, "b.db");
    const b0 = new Database(bPath);
    migrate(drizzle(b0), { migrationsFolder: migrationsUpTo(dir, 9) });
    // A's tables (today's names) → B's (their names at 0009, before migration 0012 renamed them).
    const tables: [string, string][] = [
      ["calls", "calls"],
      ["job_state", "job_state"],
      ...ROLLUP_LEVELS.flatMap((l, i): [string, string][] => {
        const suffix = ["", "_hourly", "_daily"][i]!;
        return [
          [l.everyDim, `usage_buckets${suffix}`],
          [l.noKeyUser, `usage_narrow_buckets${suffix}`],
          [l.oneDim, `usage_dim_buckets${suffix}`],
        ];
      }),
    ];
    b0.exec(`ATTACH '${join(dir, "a.db")}' AS a`);
    b0.transaction(() => {
      for (const [inA, inB] of tables) b0.exec(`DELETE FROM main.${inB}; INSERT INTO main.${inB} SELECT * FROM a.${inA}`);
    })();
    b0.exec("DETACH a");
    b0.close();

    const [dbA, dbB] = [openDatabase(join(dir, "a.db")), openDatabase(bPath)]; // B: applies 0010 to the end
    try {
      const pairTables = ROLLUP_LEVELS.flatMap((l) => (l.twoDims === null ? [] : [l.twoDims]));
      expect(pairTables).toEqual(["rollup_two_dims_hour", "rollup_two_dims_day"]);
      for (const table of pairTables) {
        const all = (db: Db) => sqliteClient(db).prepare(`SELECT * FROM ${table} ORDER BY pair, bucket_start, a, b`).safeIntegers(true).raw().all();
        const rows = all(dbA);
        expect(rows.length, table).toBeGreaterThan(0);
        expect(all(dbB), table).toEqual(rows);
        expect(sqliteClient(dbB).prepare(`SELECT COUNT(DISTINCT pair) FROM ${table}`).pluck().get(), table).toBe(15);
      }
      for (const db of [dbA, dbB]) expect(sqliteClient(db).prepare("SELECT COUNT(*) FROM sqlite_master WHERE name = 'usage_pair_buckets'").pluck().get()).toBe(0);
      const calls = (await snapshotCalls(dbB));
      const ranges = [
        { from: FROM + DAY / 4, to: NOW - DAY / 2, tz: "Asia/Kathmandu" },
        { from: FROM + DAY / 3 + 15 * 60_000, to: NOW - DAY / 8, tz: "Asia/Kolkata" },
      ];
      for (const asked of PAIRS_ASKED.flatMap((a) => ranges.map((range) => ({ ...a, ...range })))) {
        const params: UsageParams = { from: asked.from, to: asked.to, tz: asked.tz, groupBy: asked.groupBy, ...(asked.filter ? { filter: asked.filter } : {}) };
        const dims = asked.groupBy.filter((k): k is DimensionKey => k in DIMENSIONS).map((k) => DIMENSIONS[k]);
        const context = JSON.stringify(asked);
        expect(rollupFamily(dims, asked.filter ?? {}), context).toBe("twoDims");
        const answer = await queryUsage(dbB, params);
        expect(answer, context).toEqual(await queryUsage(dbA, params));
        expectOracleAnswer(usageJson(answer), bruteForceUsage(calls, params, TOP_N), context);
      }
    } finally {
      sqliteClient(dbA).close();
      sqliteClient(dbB).close();
    }
  });
});

/** Random calls straight into SQLite (no server): every dimension varied, some unpriced or failed. */
function insertRandomCalls(db: Db, n: number, seed: number, from: number, to: number): void {
  const r = prng(seed);
  const insert = sqliteClient(db).prepare(
    `INSERT INTO calls (request_id, created_at, model, endpoint, status, error_type, prompt_tokens, completion_tokens, usage_source, duration_ms, key_id, team, project, "user", cost_nano)
     VALUES (?, ?, ?, '/v1/chat/completions', ?, ?, ?, ?, 'upstream', ?, ?, ?, ?, ?, ?)`,
  );
  sqliteClient(db).transaction(() => {
    for (let i = 0; i < n; i++) {
      const model = r.pick(["m1", "m2", "m3", null]);
      const status = r.pick([200, 200, 200, 429, 500]);
      insert.run(
        `pair-${seed}-${i}`,
        r.int(from, to - 1),
        model,
        status,
        status >= 400 ? "upstream_error" : null,
        r.int(0, 4000),
        r.int(0, 2000),
        r.int(10, 5000),
        KEYS[Math.floor(r.next() ** 2 * KEYS.length)]!,
        r.pick(["search", "ads", null]),
        r.pick(["alpha", "beta", null]),
        r.pick(["ana", "bo", "chen", null]),
        model === null || r.next() < 0.1 ? null : r.int(0, 9_000_000_000),
      );
    }
  })();
}
