import { afterAll, describe, expect, it } from "vitest";
import { openDatabase } from "../../server/db/open.ts";
import { SEARCH_BUDGET, candidatePageQuery, requestPageQuery } from "../../server/requests/query.ts";
import type { RequestFilters } from "../../server/requests/filters.ts";
import { sqliteClient } from "../../server/db/sqlite.ts";

// The request explorer's failure filters combined with a model or a team seek a partial index of
// failures by that column, so a rare model's failures are not found by walking all of its team's
// calls (65 ms → ≤ 8 ms at 10M calls in bench/spend-*; the target is p95 ≤ 20 ms, see
// docs/architecture.md, "Performance targets").

describe("GET /api/requests failure filters (status=error, a failing code, a text search), alone or with a model or team, use a partial index of failures", () => {
  const db = openDatabase(":memory:");
  afterAll(() => sqliteClient(db).close());
  const plan = (filters: RequestFilters) => {
    const { sql, params } = requestPageQuery(db, filters).toSQL();
    return (sqliteClient(db).prepare(`EXPLAIN QUERY PLAN ${sql}`).all(...params) as { detail: string }[]).map((p) => p.detail).join("\n");
  };

  it.each<[RequestFilters, RegExp]>([
    [{ status: "error", model: "m" }, /calls_failed_model_created_idx \(model=\?\)/],
    [{ status: 429, model: "m" }, /calls_failed_model_created_idx \(model=\?\)/],
    [{ status: "error", team: "t" }, /calls_failed_team_created_idx \(team=\?\)/],
    [{ status: "error", model: "m", team: "t" }, /calls_failed_(model|team)_created_idx \((model|team)=\?\)/],
    // A text search walks failures only (only they carry a message), not every call.
    [{ q: "a common text" }, /calls_failed_created_idx/],
    [{ q: "a common text", model: "m" }, /calls_failed_model_created_idx \(model=\?\)/],
  ])("%j", (filters, index) => {
    const detail = plan(filters);
    expect(detail).toMatch(index);
    expect(detail).not.toMatch(/TEMP B-TREE/); // already in created_at order: no sort
  });

  // A text too short for the message index is checked on the newest SEARCH_BUDGET failures. On
  // calls_failed_created_idx, which carries the message, the test is taken in the walk (the
  // candidates' "hit"), so only matches are fetched by rowid. SQLite's plan does not call the walk
  // covering, as the failure test names status and error_type; the index's own WHERE implies it,
  // so no row is read there (bench:requests, "q 2 chars": ~10× faster at 10M calls).
  it("a 1–2 character search tests the message on calls_failed_created_idx itself, before any row is read", () => {
    const { sql, params } = candidatePageQuery(db, { q: "ee" }, SEARCH_BUDGET, 51).toSQL();
    const steps = (sqliteClient(db).prepare(`EXPLAIN QUERY PLAN ${sql}`).all(...params) as { detail: string }[]).map((p) => p.detail);
    expect(steps).toEqual(["CO-ROUTINE candidates", "SCAN calls USING INDEX calls_failed_created_idx", "SCAN candidates", "SEARCH calls USING INTEGER PRIMARY KEY (rowid=?)"]);
    expect(sql).toMatch(/\(select "id", "created_at", "calls"."error_message" LIKE \? ESCAPE '\\' as "hit" from "calls"/);
    expect(sql).toMatch(/ where \("hit" and "calls"."id" = "candidates"."id"/);
    const index = sqliteClient(db).prepare("SELECT sql FROM sqlite_master WHERE name = 'calls_failed_created_idx'").get() as { sql: string };
    expect(index.sql).toContain("(`created_at`,`id`,`error_message`)");
  });
});
