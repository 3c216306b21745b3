import { sql } from "drizzle-orm";
import type { Db } from "../db/open.ts";
import { budgetStanding, listBudgets } from "../budgets/budgets-store.ts";
import { ROLLUP_WATERMARK, readState } from "../job-runs/job-state.ts";
import { queryUsage } from "../usage/usage-query.ts";
import { notRolledUp } from "../usage/rollups/not-rolled-up.ts";
import { bucketEndAfter, startOf } from "../time.ts";

// Figures read from the database, on the writer thread (never on the serving thread): the same
// on every instance that shares the database.

export interface SpendFigure {
  period: "day" | "month";
  team: string;
  model: string;
  costNano: bigint;
}

/**
 * Spend so far this day and this month (in `tz`) by team and model, from the rollups plus the
 * calls not rolled up yet. The usage query keeps the 20 biggest teams and models of each period
 * and folds the rest into "(other)", so the number of series stays bounded whatever callers send.
 */
export async function readSpend(db: Db, now: number, tz: string): Promise<SpendFigure[]> {
  const out: SpendFigure[] = [];
  for (const period of ["day", "month"] as const) {
    const report = await queryUsage(db, { from: startOf(period, now, tz), to: bucketEndAfter(now), tz, groupBy: ["team", "model"] });
    for (const row of report.rows) out.push({ period, team: row.group.team ?? "", model: row.group.model ?? "", costNano: row.costNano });
  }
  return out;
}

/** Age in seconds of the oldest call the rollup has not aggregated yet; 0 when it is caught up. */
export async function readRollupLagSeconds(db: Db, now: number): Promise<number> {
  if (db.dialect === "postgres") {
    // Calls commit out of id order there: the oldest of the (small) tail by its own time.
    const oldest = await db.get<{ at: number | null }>(sql`SELECT MIN(created_at) AS at FROM calls WHERE ${await notRolledUp(db)}`);
    return oldest?.at == null ? 0 : Math.max(0, now - oldest.at) / 1000;
  }
  const watermark = await readState(db, ROLLUP_WATERMARK);
  const oldest = await db.get<{ created_at: number }>(sql`SELECT created_at FROM calls WHERE id > ${watermark} ORDER BY id LIMIT 1`);
  return oldest === undefined ? 0 : Math.max(0, now - oldest.created_at) / 1000;
}

/** One budget's standing this period: its id and scope kind only (a key fingerprint is never a label). */
export interface BudgetFigure {
  budget: string;
  scope: string;
  spentNano: bigint;
  amountNano: bigint;
}

/** Spend against every budget in its current period, from the same reads as GET /api/budgets. */
export async function readBudgets(db: Db, now: number): Promise<BudgetFigure[]> {
  const out: BudgetFigure[] = [];
  for (const budget of await listBudgets(db)) {
    const standing = await budgetStanding(db, budget, now);
    out.push({ budget: String(budget.id), scope: budget.scope, spentNano: standing.spentNano, amountNano: BigInt(budget.amountNano) });
  }
  return out;
}
