import { sql } from "drizzle-orm";
import type { Db } from "../db/open.ts";
import { notRolledUp } from "../usage/rollups/not-rolled-up.ts";
import { levelPieces, ROLLUP_LEVELS } from "../usage/rollups/rollup-levels.ts";

// What calls of one key, team or project cost in [from, to): the one-dimension rollups for the
// calls already rolled up (a handful of rows per day however many calls), plus the calls past the
// watermark summed from calls. Period starts are whole 15-minute buckets in every zone, so the
// rollups cover the period exactly. Run it inside a transaction so both parts share a snapshot.

export type BudgetScope = "key" | "team" | "project";

const COLUMN: Record<BudgetScope, "key_id" | "team" | "project"> = { key: "key_id", team: "team", project: "project" };

// Sums come back as text: a number would lose nano-dollars past 2^53 (about 9 million USD).
const sumOf = async (db: Db, query: ReturnType<typeof sql>): Promise<bigint> => BigInt((await db.get<{ total: string | null }>(query))?.total ?? "0");

export async function spentNano(db: Db, scope: BudgetScope, target: string, from: number, to: number): Promise<bigint> {
  const column = COLUMN[scope];
  let total = 0n;
  for (const piece of levelPieces(from, to)) {
    const table = sql.identifier(ROLLUP_LEVELS[piece.level]!.oneDim);
    total += await sumOf(
      db,
      sql`SELECT CAST(COALESCE(SUM(cost_nano), 0) AS TEXT) AS total FROM ${table} WHERE dim = ${column} AND value = ${target} AND bucket_start >= ${piece.start} AND bucket_start < ${piece.end}`,
    );
  }
  // On SQLite, unary + keeps the planner on the id range: the tail is small, a month of a team's
  // calls is not. (PostgreSQL has no unary + on text and plans this from its statistics.)
  const pending = await notRolledUp(db);
  const plus = db.dialect === "sqlite" ? sql.raw("+") : sql.raw("");
  const col = sql.identifier(column);
  const tail = await sumOf(
    db,
    sql`SELECT CAST(COALESCE(SUM(cost_nano), 0) AS TEXT) AS total FROM calls WHERE ${pending} AND ${plus}${col} = ${target} AND ${plus}created_at >= ${from} AND ${plus}created_at < ${to}`,
  );
  return total + tail;
}
