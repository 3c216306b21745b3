import type { Db } from "../db/open.ts";
import { readState, ROLLUP_WATERMARK } from "../job-runs/job-state.ts";
import { levelPieces, ROLLUP_LEVELS } from "../usage/rollups/rollup-levels.ts";

// What calls of one key, team or project cost in [from, to): the one-dimension rollups for the
// calls already rolled up (a handful of rows per day however many calls), plus the calls past the
// watermark summed from calls. Period starts are whole 15-minute buckets in every zone, so the
// rollups cover the period exactly. Run it inside a transaction so both parts share a snapshot.

export type BudgetScope = "key" | "team" | "project";

const COLUMN: Record<BudgetScope, "key_id" | "team" | "project"> = { key: "key_id", team: "team", project: "project" };

export function spentNano(db: Db, scope: BudgetScope, target: string, from: number, to: number): bigint {
  const client = db.$client;
  const column = COLUMN[scope];
  let total = 0n;
  for (const piece of levelPieces(from, to)) {
    const table = ROLLUP_LEVELS[piece.level]!.dim;
    const row = client
      .prepare(`SELECT COALESCE(SUM(cost_nano), 0) FROM ${table} WHERE dim = ? AND value = ? AND bucket_start >= ? AND bucket_start < ?`)
      .pluck()
      .safeIntegers()
      .get(column, target, piece.start, piece.end) as bigint;
    total += row;
  }
  // Unary + keeps the planner on the id range: the tail is small, a month of a team's calls is not.
  const watermark = readState(db, ROLLUP_WATERMARK);
  const tail = client
    .prepare(`SELECT COALESCE(SUM(cost_nano), 0) FROM calls WHERE id > ? AND +${column} = ? AND +created_at >= ? AND +created_at < ?`)
    .pluck()
    .safeIntegers()
    .get(watermark, target, from, to) as bigint;
  return total + tail;
}
