import type { Db } from "../db/open.ts";
import { formatNanoAsUsd } from "../money.ts";
import { nextPeriodStart, periodLabel } from "../time.ts";
import type { ChartSpec } from "../usage/chart-spec.ts";
import type { BudgetStanding } from "./budgets-store.ts";
import { spentNano } from "./spent-sql.ts";

// A budget's burn chart: spend so far this period, summed day by day in the budget's zone, next to
// the straight line to the projected end and the budget itself. Days (hours for a daily budget)
// come from the same rollups + tail as the budget's spent figure.

export async function burnChart(db: Db, s: BudgetStanding, now: number): Promise<ChartSpec> {
  const { budget } = s;
  const unit = budget.period === "daily" ? "hour" : "day";
  const labels: string[] = [];
  const spent: Array<number | null> = [];
  const projected: Array<number | null> = [];
  const amount: number[] = [];
  const amountUsd = Number(formatNanoAsUsd(BigInt(budget.amountNano)));
  let cumulative = 0n;
  const spentNow = Number(formatNanoAsUsd(s.spentNano));
  const projectedEnd = Number(formatNanoAsUsd(s.projectedNano));
  for (let start = s.periodStart; start < s.periodEnd; start = nextPeriodStart(unit, start, budget.timezone)) {
    const end = Math.min(nextPeriodStart(unit, start, budget.timezone), s.periodEnd);
    labels.push(periodLabel(unit, start, budget.timezone));
    amount.push(amountUsd);
    if (start <= now) {
      cumulative += await spentNano(db, budget.scope, budget.target, start, end);
      spent.push(Number(formatNanoAsUsd(cumulative)));
    } else spent.push(null);
    // For plotting only (floats are fine on a chart): from today's spend straight to the projection.
    projected.push(end >= now ? spentNow + ((projectedEnd - spentNow) * Math.max(0, Math.min(end, s.periodEnd) - now)) / Math.max(1, s.periodEnd - now) : null);
  }
  return {
    type: "line",
    stacked: false,
    unit: "usd",
    labels,
    series: [
      { label: "spent", color: 0, data: spent },
      { label: "projected", color: 3, data: projected },
      { label: "budget", color: -1, data: amount },
    ],
  };
}
