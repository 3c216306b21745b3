import { sql } from "drizzle-orm";
import type { Db } from "../db/open.ts";
import { sumRolledUpPlusTail } from "../usage/rollups/rolled-up-plus-tail.ts";
import { levelPieces, ROLLUP_LEVELS } from "../usage/rollups/rollup-levels.ts";

// What calls of one key, team or project cost in [from, to): the one-dimension rollups for the
// calls already rolled up (a handful of rows per day however many calls), plus the calls past the
// watermark summed from calls, in one statement (one snapshot, rolled-up-plus-tail.ts). Period
// starts are whole 15-minute buckets in every zone, so the rollups cover the period exactly.

export type BudgetScope = "key" | "team" | "project";

const COLUMN: Record<BudgetScope, "key_id" | "team" | "project"> = { key: "key_id", team: "team", project: "project" };

export function spentNano(db: Db, scope: BudgetScope, target: string, from: number, to: number): Promise<bigint> {
  const column = COLUMN[scope];
  const rolledUp = levelPieces(from, to).map((piece) => {
    const table = sql.identifier(ROLLUP_LEVELS[piece.level]!.oneDim);
    return sql`SELECT SUM(cost_nano) FROM ${table} WHERE dim = ${column} AND value = ${target} AND bucket_start >= ${piece.start} AND bucket_start < ${piece.end}`;
  });
  // On SQLite, unary + keeps the planner on the id range: the tail is small, a month of a team's
  // calls is not. (PostgreSQL has no unary + on text and plans this from its statistics.)
  const plus = db.dialect === "sqlite" ? sql.raw("+") : sql.raw("");
  const col = sql.identifier(column);
  return sumRolledUpPlusTail(
    db,
    rolledUp,
    (pending) => sql`SELECT SUM(cost_nano) FROM calls WHERE ${pending} AND ${plus}${col} = ${target} AND ${plus}created_at >= ${from} AND ${plus}created_at < ${to}`,
  );
}
