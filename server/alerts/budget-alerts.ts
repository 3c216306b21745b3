import type { Db } from "../db/open.ts";
import { budgetStanding, getBudget, listBudgets, soft } from "../budgets/budgets-store.ts";
import type { Budget } from "../db/schema.ts";
import { formatNanoAsDollars, formatNanoAsUsd } from "../money.ts";
import type { Mailer } from "../reports/mailer.ts";
import { toIso } from "../time.ts";
import type { Channel } from "./alert-input.ts";
import { claimCrossing, listAlertRules, markFailed, markSent, takeDueEvents } from "./alerts-store.ts";
import { sendToChannel } from "./send-alert.ts";

// The alerts job: for every rule, every soft threshold its budgets have crossed this period is
// claimed as an event row (unique per rule, budget, period and threshold: it fires once, across
// restarts and processes), then every due event is sent to the rule's channels, with retries.

export interface AlertsRunResult {
  fired: number;
  sent: number;
  failed: number;
}

export async function runBudgetAlerts(db: Db, now: number, mailer: Mailer | null): Promise<AlertsRunResult> {
  const result: AlertsRunResult = { fired: 0, sent: 0, failed: 0 };
  const rules = await listAlertRules(db);
  const everyBudget = rules.some((r) => r.budgetId === null) ? await listBudgets(db) : [];
  for (const rule of rules) {
    const watched: Budget[] = rule.budgetId === null ? everyBudget : [await getBudget(db, rule.budgetId)].filter((b): b is Budget => b !== null);
    for (const budget of watched) {
      const s = await budgetStanding(db, budget, now);
      for (const t of soft(budget)) {
        const threshold = Math.round(t * 100); // basis points
        if (s.spentNano * 10_000n < BigInt(budget.amountNano) * BigInt(threshold)) continue;
        if (await claimCrossing(db, { ruleId: rule.id, budgetId: budget.id, periodStart: s.periodStart, threshold, spentNano: Number(s.spentNano) }, now)) result.fired++;
      }
    }
  }
  const byId = new Map(rules.map((r) => [r.id, r]));
  for (const event of await takeDueEvents(db, now)) {
    const rule = byId.get(event.ruleId);
    const budget = await getBudget(db, event.budgetId);
    if (!rule || !budget) continue;
    const threshold = event.threshold / 100;
    const text = `Budget for ${budget.scope} ${budget.target} is past ${threshold}%: ${formatNanoAsDollars(BigInt(event.spentNano))} of ${formatNanoAsDollars(BigInt(budget.amountNano))} (${budget.period}, from ${toIso(event.periodStart)}).`;
    const message = {
      eventId: event.id,
      subject: `tollbooth: ${budget.scope} ${budget.target} past ${threshold}% of its ${budget.period} budget`,
      text,
      payload: {
        event: "budget_threshold",
        id: event.id,
        budget_id: budget.id,
        scope: budget.scope,
        target: budget.target,
        period: budget.period,
        period_start: toIso(event.periodStart),
        threshold,
        amount_usd: formatNanoAsUsd(BigInt(budget.amountNano)),
        spent_usd: formatNanoAsUsd(BigInt(event.spentNano)),
      },
    };
    try {
      for (const channel of JSON.parse(rule.channels) as Channel[]) await sendToChannel(channel, message, mailer);
      await markSent(db, event.id, now);
      result.sent++;
    } catch (err) {
      await markFailed(db, event, (err as Error).message, now);
      result.failed++;
    }
  }
  return result;
}
