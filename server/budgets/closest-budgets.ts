import type { Db } from "../db/database.ts";
import { budgetStanding, listBudgets, type BudgetStanding } from "./budgets-store.ts";

// The Overview's budget panel: the budgets that have used the largest share of their amount this
// period (spent plus reserved, as a hard budget counts room), most used first.

export interface BudgetUse {
  standing: BudgetStanding;
  /** Whole percent of the amount spent or reserved. */
  usedPercent: number;
}

export async function closestBudgets(db: Db, now: number, limit = 5): Promise<BudgetUse[]> {
  const uses: BudgetUse[] = [];
  for (const budget of await listBudgets(db)) {
    const standing = await budgetStanding(db, budget, now);
    const used = standing.spentNano + standing.reservedNano;
    uses.push({ standing, usedPercent: budget.amountNano <= 0 ? 0 : Number((used * 100n) / BigInt(budget.amountNano)) });
  }
  return uses.sort((a, b) => b.usedPercent - a.usedPercent).slice(0, limit);
}
