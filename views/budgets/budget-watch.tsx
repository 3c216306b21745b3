import type { BudgetUse } from "../../server/budgets/closest-budgets.ts";
import { formatNanoAsDollars } from "../../server/money.ts";

/** Overview panel: the budgets closest to their limit, each a line and a meter, linking to /budgets. */
export function BudgetWatch({ budgets }: { budgets: BudgetUse[] }) {
  if (budgets.length === 0) return null;
  return (
    <article class="budget-watch">
      <header>
        <h2>Budgets closest to their limit</h2>
        <a href="/budgets">All budgets</a>
      </header>
      <ul>
        {budgets.map(({ standing: s, usedPercent }) => (
          <li>
            <a href="/budgets" class="row">
              <span>
                {s.budget.scope} <strong>{s.budget.target}</strong> <small class="muted">{s.budget.period}</small>
              </span>
              <span class={usedPercent >= 100 ? "over" : undefined}>
                {usedPercent}% of {formatNanoAsDollars(BigInt(s.budget.amountNano))}
              </span>
            </a>
            <meter min={0} max={100} low={80} high={95} optimum={0} value={Math.min(100, usedPercent)} aria-label={`${s.budget.scope} ${s.budget.target}: ${usedPercent}% of the budget used`} />
          </li>
        ))}
      </ul>
    </article>
  );
}
