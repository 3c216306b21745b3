import { afterAll, describe, expect, it } from "vitest";
import { openDatabase } from "../../server/db/open.ts";
import { requestPageQuery } from "../../server/requests/query.ts";
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
});
