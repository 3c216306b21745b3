import Database from "better-sqlite3";
import { drizzle } from "drizzle-orm/better-sqlite3";
import { migrate } from "drizzle-orm/better-sqlite3/migrator";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { openDatabase } from "../../server/db/open.ts";
import { NO_KEY_USER_COLUMNS, ROLLUP_LEVELS, familyAt, levelPieces } from "../../server/usage/rollups/rollup-levels.ts";
import type { DimensionColumn } from "../../server/usage/rollups/bucket-row-sql.ts";
import { PAIRS, pairName } from "../../server/usage/rollups/dimension-pairs.ts";
import { aggregateUsageSql, rollupFamily, topDimensionValuesSql, type DimensionSpec, type RollupFamily, type UsageFilter } from "../../server/usage/usage-sql.ts";
import { periodsBetween, type CalendarUnit } from "../../server/time.ts";
import { migrationsUpTo } from "./old-migrations.ts";
import { prng } from "./prng.ts";
import { sqliteClient } from "../../server/db/sqlite.ts";

// The rollup levels (15 min, UTC hour, UTC day): how a range is split across them, that every
// read is an index range scan, and that migrating a database rolled up before the levels existed
// fills them from its 15-minute rows.

const Q = 15 * 60_000;
const H = 3_600_000;
const D = 86_400_000;
const at = (iso: string) => Date.parse(iso);
const show = (pieces: ReturnType<typeof levelPieces>) =>
  pieces.map((p) => `${["15m", "1h", "1d"][p.level]} ${new Date(p.start).toISOString().slice(5, 16)}→${new Date(p.end).toISOString().slice(5, 16)}`);

describe("levelPieces: a range as 15-minute edges, whole UTC hours and whole UTC days", () => {
  it.each([
    ["a UTC month: whole days only", "2025-03-01T00:00Z", "2025-04-01T00:00Z", ["1d 03-01T00:00→04-01T00:00"]],
    ["inside one hour: buckets only", "2025-03-01T10:15Z", "2025-03-01T10:45Z", ["15m 03-01T10:15→03-01T10:45"]],
    ["a bucket up to a whole hour", "2025-03-01T09:45Z", "2025-03-01T11:00Z", ["15m 03-01T09:45→03-01T10:00", "1h 03-01T10:00→03-01T11:00"]],
    [
      "a day in Asia/Kolkata (+05:30)",
      "2025-03-01T00:00+05:30",
      "2025-03-02T00:00+05:30",
      ["15m 02-28T18:30→02-28T19:00", "1h 02-28T19:00→03-01T18:00", "15m 03-01T18:00→03-01T18:30"],
    ],
    [
      "a day in Asia/Kathmandu (+05:45)",
      "2025-03-01T00:00+05:45",
      "2025-03-02T00:00+05:45",
      ["15m 02-28T18:15→02-28T19:00", "1h 02-28T19:00→03-01T18:00", "15m 03-01T18:00→03-01T18:15"],
    ],
    [
      "three days from :15 to :45",
      "2025-03-01T22:15Z",
      "2025-03-04T01:45Z",
      ["15m 03-01T22:15→03-01T23:00", "1h 03-01T23:00→03-02T00:00", "1d 03-02T00:00→03-04T00:00", "1h 03-04T00:00→03-04T01:00", "15m 03-04T01:00→03-04T01:45"],
    ],
    ["empty", "2025-03-01T10:00Z", "2025-03-01T10:00Z", []],
  ])("%s", (_, from, to, expected) => {
    expect(show(levelPieces(at(from), at(to)))).toEqual(expected);
  });

  it("tiles any 15-minute-aligned range exactly, each piece whole buckets of its level, the finest only at the edges", () => {
    const r = prng(7);
    for (let i = 0; i < 2_000; i++) {
      const from = at("2025-01-01T00:00Z") + r.int(0, 200 * 96) * Q;
      const to = from + r.int(1, r.next() < 0.5 ? 8 : 40 * 96) * Q;
      const pieces = levelPieces(from, to);
      const context = `${new Date(from).toISOString()} → ${new Date(to).toISOString()}: ${show(pieces).join(", ")}`;
      expect(pieces[0]?.start, context).toBe(from);
      expect(pieces.at(-1)?.end, context).toBe(to);
      pieces.forEach((p, k) => {
        const width = ROLLUP_LEVELS[p.level]!.width;
        expect(p.start < p.end && p.start % width === 0 && p.end % width === 0, context).toBe(true);
        if (k > 0) expect(p.start, context).toBe(pieces[k - 1]!.end);
      });
      // Coarsest possible: fewer than an hour of buckets at each edge, less than a day of hours.
      const sum = (level: number) => pieces.filter((p) => p.level === level).reduce((s, p) => s + p.end - p.start, 0);
      const span = to - from;
      if (span >= 2 * H) expect(sum(0), context).toBeLessThan(2 * H);
      if (span >= 2 * D) expect(sum(1), context).toBeLessThan(2 * D);
      expect(pieces.length, context).toBeLessThanOrEqual(5);
    }
  });
});

describe("rollupFamily: the family with the fewest rows that holds every column asked", () => {
  it.each<{ name: string; dims: DimensionColumn[]; filter: UsageFilter; family: RollupFamily }>([
    { name: "totals", dims: [], filter: {}, family: "oneDim" },
    { name: "one dimension", dims: ["key_id"], filter: {}, family: "oneDim" },
    { name: "two dimensions", dims: ["model", "team"], filter: {}, family: "twoDims" },
    { name: "two dimensions, reverse of the pair's order", dims: ["team", "model"], filter: {}, family: "twoDims" },
    { name: "key × user", dims: ["key_id", "user"], filter: {}, family: "twoDims" },
    { name: "user × status", dims: ["user", "status_class"], filter: {}, family: "twoDims" },
    { name: "one dimension, a filter on another column", dims: ["user"], filter: { team: "search" }, family: "twoDims" },
    { name: "two dimensions, a filter on one of them", dims: ["team", "key_id"], filter: { team: "search" }, family: "twoDims" },
    { name: "no dimension, filters on two columns", dims: [], filter: { team: "search", model: "m" }, family: "twoDims" },
    { name: "no dimension, one filter", dims: [], filter: { project: "alpha" }, family: "noKeyUser" },
    { name: "one dimension, a filter on the same column", dims: ["model"], filter: { model: "m" }, family: "noKeyUser" },
    { name: "three columns among model, team, project, status", dims: ["model", "status_class"], filter: { team: "search" }, family: "noKeyUser" },
    { name: "three columns, one of them key", dims: ["key_id", "model"], filter: { team: "search" }, family: "everyDim" },
    { name: "three columns, one of them user", dims: ["user"], filter: { team: "search", project: "alpha" }, family: "everyDim" },
  ])("$name → $family", ({ dims, filter, family }) => {
    expect(rollupFamily(dims, filter)).toBe(family);
  });
});

describe("familyAt: the two-dimension family has no 15-minute level; no-key-user or every-dimension rows stand in there", () => {
  it.each(PAIRS.map((pair) => [pairName(pair), pair] as const))("%s", (_, pair) => {
    const standIn = pair.every((c) => NO_KEY_USER_COLUMNS.includes(c)) ? "noKeyUser" : "everyDim";
    const [fine, hour, day] = ROLLUP_LEVELS;
    expect(fine!.twoDims).toBeNull();
    expect(familyAt(fine!, "twoDims", pair)).toEqual({ family: standIn, table: fine![standIn] });
    expect(familyAt(hour!, "twoDims", pair)).toEqual({ family: "twoDims", table: "rollup_two_dims_hour" });
    expect(familyAt(day!, "twoDims", pair)).toEqual({ family: "twoDims", table: "rollup_two_dims_day" });
  });

  it("leaves every other family at every level as it is", () => {
    for (const level of ROLLUP_LEVELS) {
      for (const family of ["oneDim", "noKeyUser", "everyDim"] as const) expect(familyAt(level, family, ["key_id", "user"]).table).toBe(level[family]);
    }
  });
});

describe("every rollup read is an index range scan (EXPLAIN QUERY PLAN)", () => {
  const db = openDatabase(":memory:");
  afterAll(() => sqliteClient(db).close());

  const plan = (sql: string, params: Record<string, number | string>) =>
    (sqliteClient(db).prepare(`EXPLAIN QUERY PLAN ${sql}`).all(params) as { detail: string }[]).map((r) => r.detail);

  const shapes: [string, DimensionSpec[], UsageFilter][] = [
    ["totals", [], {}],
    ["by model", [{ column: "model", keep: null }], {}],
    ["by key, top N", [{ column: "key_id", keep: ["a", "b"] }], {}],
    ["model × team", [{ column: "model", keep: null }, { column: "team", keep: ["x"] }], {}],
    ["by model for one team", [{ column: "model", keep: null }], { team: "search" }],
    ["key × user (pair levels)", [{ column: "key_id", keep: null }, { column: "user", keep: ["x"] }], {}],
    ["user × key, the reverse of the pair's order (pair levels)", [{ column: "user", keep: ["x"] }, { column: "key_id", keep: null }], {}],
    ["by user for one team (pair levels)", [{ column: "user", keep: ["x"] }], { team: "search" }],
    ["totals for one team and model (pair levels)", [], { team: "search", model: "m" }],
    ["team × project for one model (narrow levels)", [{ column: "team", keep: null }, { column: "project", keep: ["x"] }], { model: "m" }],
    ["key × user for one team (all-dimensions levels)", [{ column: "key_id", keep: null }, { column: "user", keep: ["x"] }], { team: "search" }],
  ];
  const ranges: [CalendarUnit | null, string, string, string][] = [
    ["day", "2025-03-01T00:00+05:45", "2025-03-31T00:00+05:45", "Asia/Kathmandu"],
    ["month", "2025-01-01T00:15Z", "2025-04-01T00:00Z", "UTC"],
    [null, "2025-03-01T10:30Z", "2025-03-20T10:15Z", "UTC"],
  ];

  it.each(shapes)("%s", (_, dims, filter) => {
    for (const [unit, from, to, tz] of ranges) {
      const range = { from: at(from), to: at(to), watermark: 0 };
      const periods = periodsBetween(unit, range.from, range.to, tz, 2_500);
      const statements: { sql: string; params: Record<string, number | string>; columns: DimensionColumn[]; periods: { start: number; end: number }[] }[] = [
        { ...aggregateUsageSql(range, periods, dims, filter), columns: dims.map((d) => d.column), periods },
      ];
      if (dims[0]) statements.push({ ...topDimensionValuesSql(range, dims[0].column, 21, filter), columns: [dims[0].column], periods: [{ start: range.from, end: range.to }] });
      for (const { sql, params, columns, periods } of statements) {
        const lines = plan(sql, params);
        const context = `${unit} ${from} → ${to} ${tz}\n${lines.join("\n")}`;
        const reads = lines.filter((l) => / u /.test(`${l} `));
        // One read per level that has pieces: at least the hourly and one other.
        expect(reads.length, context).toBeGreaterThanOrEqual(2);
        // Each read is of the family rollupFamily picks, in level order; at 15 minutes a pair
        // query reads the narrow rows when both its columns are among theirs, else the
        // every-dimension rows (the two-dimension family has no 15-minute level).
        const family = rollupFamily(columns, filter);
        const asked = [...new Set([...columns, ...Object.keys(filter)])] as DimensionColumn[];
        const levels = new Set(periods.flatMap((p) => levelPieces(p.start, p.end).map((piece) => piece.level)));
        expect(levels.has(0), `every range has 15-minute edges: ${context}`).toBe(true);
        const expected = ROLLUP_LEVELS.flatMap((l, i) => {
          if (!levels.has(i)) return [];
          const standIn = i === 0 && family === "twoDims" ? (asked.every((c) => NO_KEY_USER_COLUMNS.includes(c)) ? "noKeyUser" : "everyDim") : family;
          return [{ table: l[standIn]!, family: standIn }];
        });
        expect(sql.match(/CROSS JOIN (\w+) u\b/g)?.map((m) => m.split(" ")[2]), context).toEqual(expected.map((e) => e.table));
        expect(reads.length, context).toBe(expected.length);
        // One pair's or one dimension's rows: the key's leading column is an equality.
        reads.forEach((line, k) => {
          const keyPrefix = expected[k]!.family === "twoDims" ? "pair=\\? AND " : expected[k]!.family === "oneDim" ? "dim=\\? AND " : "";
          expect(line, context).toMatch(new RegExp(`^SEARCH u USING (PRIMARY KEY|INDEX usage_\\w+_key_uq) \\(${keyPrefix}bucket_start>\\? AND bucket_start<\\?\\)$`));
        });
        // The fresh tail is found by id, never by scanning calls.
        expect(lines.filter((l) => /\bcalls\b/.test(l)), context).toEqual(["SEARCH calls USING INTEGER PRIMARY KEY (rowid>?)"]);
        expect(lines.some((l) => /^SCAN (u|calls)\b/.test(l)), context).toBe(false);
      }
      // With the tail from the per-connection cache (JSON rows), calls are not read at all.
      const cached = [aggregateUsageSql(range, periods, dims, filter, { groupsJson: "[]" })];
      if (dims[0]) cached.push(topDimensionValuesSql(range, dims[0].column, 21, filter, { valuesJson: "[]" }));
      for (const { sql, params } of cached) {
        const lines = plan(sql, params);
        expect(lines.filter((l) => /\bcalls\b/.test(l)), lines.join("\n")).toEqual([]);
        expect(lines.some((l) => /^SCAN u\b/.test(l)), lines.join("\n")).toBe(false);
      }
    }
  });

  it("keeps the coarser levels WITHOUT ROWID (rows live in the primary key's B-tree)", () => {
    for (const level of ROLLUP_LEVELS) {
      // The 15-minute all-dimensions and one-dimension tables predate 0006 and keep their rowid.
      for (const table of level === ROLLUP_LEVELS[0] ? [level.noKeyUser] : [level.everyDim, level.noKeyUser, level.twoDims!, level.oneDim]) {
        const sql = sqliteClient(db).prepare("SELECT sql FROM sqlite_master WHERE name = ?").pluck().get(table) as string;
        expect(sql, table).toMatch(/\) WITHOUT ROWID$/);
      }
    }
  });

  it("has no 15-minute pair table", () => {
    expect(sqliteClient(db).prepare("SELECT name FROM sqlite_master WHERE name LIKE '%two_dims%' OR name LIKE '%pair%' ORDER BY name").pluck().all()).toEqual([
      "rollup_two_dims_day",
      "rollup_two_dims_hour",
    ]);
  });
});

describe("migrations 0006, 0009 and 0010 fill the new levels of a database rolled up before they existed", () => {
  const dir = mkdtempSync(join(tmpdir(), "tollbooth-levels-"));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("sums the 15-minute rows into hours and days, to the unit", () => {
    // The migrations as they were before this feature: 0000–0004 (the tables' names before 0012).
    const path = join(dir, "old.db");
    const client = new Database(path);
    migrate(drizzle(client), { migrationsFolder: migrationsUpTo(dir, 4) });

    const r = prng(11);
    const insertWide = client.prepare(
      `INSERT OR IGNORE INTO usage_buckets (bucket_start, model, key_id, team, project, "user", status_class, requests, errors, prompt_tokens, completion_tokens, cost_nano, unpriced_requests, duration_ms_sum)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 0, ?)`,
    );
    const insertDim = client.prepare(
      `INSERT OR IGNORE INTO usage_dim_buckets (dim, bucket_start, value, requests, errors, prompt_tokens, completion_tokens, cost_nano, unpriced_requests, duration_ms_sum)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, 0, ?)`,
    );
    client.transaction(() => {
      for (let i = 0; i < 3_000; i++) {
        const bucket = at("2025-03-01T00:00Z") + r.int(0, 10 * 96) * Q;
        const model = r.pick(["m1", "m2", "m3"]);
        const m = [r.int(1, 9), r.int(0, 2), r.int(0, 5000), r.int(0, 5000), r.int(0, 9_000_000_000_000), r.int(0, 9000)] as const;
        const [team, project, user] = [r.pick(["", "t1", "t2"]), r.pick(["", "p1"]), r.pick(["", "u1", "u2", "u3"])];
        insertWide.run(bucket, model, r.pick(["k1", "k2"]), team, project, user, r.pick(["2xx", "5xx"]), ...m);
        insertDim.run(r.pick(["model", "team"]), bucket, model, ...m);
      }
    })();
    client.close();

    const db = openDatabase(path); // applies 0005 onwards
    const c = sqliteClient(db);
    const measures = "SUM(requests), SUM(errors), SUM(prompt_tokens), SUM(completion_tokens), SUM(cost_nano), SUM(unpriced_requests), SUM(duration_ms_sum)";
    const rows = (sql: string) => c.prepare(sql).safeIntegers(true).raw().all();
    for (const level of ROLLUP_LEVELS.slice(1)) {
      const w = level.width;
      expect(rows(`SELECT bucket_start, model, key_id, status_class, ${measures} FROM ${level.everyDim} GROUP BY 1, 2, 3, 4 ORDER BY 1, 2, 3, 4`), level.everyDim).toEqual(
        rows(`SELECT bucket_start - bucket_start % ${w}, model, key_id, status_class, ${measures} FROM rollup_every_dim_15m GROUP BY 1, 2, 3, 4 ORDER BY 1, 2, 3, 4`),
      );
      expect(rows(`SELECT dim, bucket_start, value, ${measures} FROM ${level.oneDim} GROUP BY 1, 2, 3 ORDER BY 1, 2, 3`), level.oneDim).toEqual(
        rows(`SELECT dim, bucket_start - bucket_start % ${w}, value, ${measures} FROM rollup_one_dim_15m GROUP BY 1, 2, 3 ORDER BY 1, 2, 3`),
      );
      expect((c.prepare(`SELECT COUNT(*) FROM ${level.oneDim}`).pluck().get() as number) > 0).toBe(true);
    }
    // 0009 fills the no-key-user family (no key_id, no user) at every level from the 15-minute rows.
    for (const level of ROLLUP_LEVELS) {
      const w = level.width;
      expect(rows(`SELECT bucket_start, model, team, project, status_class, ${measures} FROM ${level.noKeyUser} GROUP BY 1, 2, 3, 4, 5 ORDER BY 1, 2, 3, 4, 5`), level.noKeyUser).toEqual(
        rows(`SELECT bucket_start - bucket_start % ${w}, model, team, project, status_class, ${measures} FROM rollup_every_dim_15m GROUP BY 1, 2, 3, 4, 5 ORDER BY 1, 2, 3, 4, 5`),
      );
      expect((c.prepare(`SELECT COUNT(*) FROM ${level.noKeyUser}`).pluck().get() as number) > 0).toBe(true);
    }
    // 0010 fills the two-dimension family, every pair at hours and days (it has no 15-minute level), to
    // the sums of the 15-minute rows.
    for (const level of ROLLUP_LEVELS) {
      const w = level.width;
      if (level.twoDims === null) continue;
      for (const pair of PAIRS) {
        const context = `${level.twoDims} ${pairName(pair)}`;
        expect(rows(`SELECT bucket_start, a, b, ${measures} FROM ${level.twoDims} WHERE pair = '${pairName(pair)}' GROUP BY 1, 2, 3 ORDER BY 1, 2, 3`), context).toEqual(
          rows(`SELECT bucket_start - bucket_start % ${w}, "${pair[0]}", "${pair[1]}", ${measures} FROM rollup_every_dim_15m GROUP BY 1, 2, 3 ORDER BY 1, 2, 3`),
        );
        expect((c.prepare(`SELECT COUNT(*) FROM ${level.twoDims} WHERE pair = ?`).pluck().get(pairName(pair)) as number) > 0, context).toBe(true);
      }
    }
    expect(c.prepare(`SELECT COUNT(DISTINCT pair) FROM rollup_two_dims_hour`).pluck().get()).toBe(15);
    expect(c.prepare(`SELECT COUNT(*) FROM sqlite_master WHERE name = 'usage_pair_buckets'`).pluck().get()).toBe(0);
    c.close();
  });
});
