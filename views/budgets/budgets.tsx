import type { BudgetStanding } from "../../server/budgets/budgets-store.ts";
import { soft } from "../../server/budgets/budgets-store.ts";
import { formatNanoAsUsd } from "../../server/money.ts";
import { CSRF_FIELD } from "../../server/sessions/csrf.ts";
import type { ChartSpec } from "../../server/usage/chart-spec.ts";
import { Time, FormError } from "../components/bits.tsx";
import { Chart } from "../usage/chart.tsx";

export interface BudgetForm {
  scope: string;
  target: string;
  amount_usd: string;
  period: string;
  timezone: string;
  soft_thresholds: string;
  hard: string;
}

export interface BudgetsProps {
  budgets: Array<{ standing: BudgetStanding; chart: ChartSpec }>;
  form: BudgetForm;
  error: string | null;
  csrfToken: string;
}

const usd = (nano: bigint) => `$${formatNanoAsUsd(nano).replace(/(\.\d\d)\d*$/, "$1")}`;
const iso = (ms: number) => new Date(ms).toISOString();

/** Percent of the amount, whole, for the meter and its label. */
function percentOf(part: bigint, whole: number): number {
  return whole <= 0 ? 0 : Number((part * 100n) / BigInt(whole));
}

export function BudgetsPage({ budgets, form, error, csrfToken }: BudgetsProps) {
  return (
    <>
      <hgroup>
        <h1>Budgets</h1>
        <p>Spend limits per key, team or project over a day, week or month in a time zone. A hard budget refuses calls (429) before they cost anything.</p>
      </hgroup>
      {budgets.length === 0 ? <p class="empty">No budgets yet.</p> : null}
      <div class="budgets">
        {budgets.map(({ standing: s, chart }) => {
          const b = s.budget;
          const used = percentOf(s.spentNano, b.amountNano);
          const projected = percentOf(s.projectedNano, b.amountNano);
          const crossed = soft(b).filter((t) => used >= t);
          return (
            <article class="budget">
              <header>
                <h3>
                  {b.scope} <strong>{b.target}</strong> <span class={`badge ${b.hard ? "err" : ""}`}>{b.hard ? "hard" : "soft"}</span>
                </h3>
                <p class="muted">
                  {usd(BigInt(b.amountNano))} {b.period} in {b.timezone}, <Time iso={iso(s.periodStart)} short /> to <Time iso={iso(s.periodEnd)} short />
                </p>
              </header>
              <meter min={0} max={100} low={soft(b)[0] ?? 80} high={soft(b).at(-1) ?? 95} optimum={0} value={Math.min(100, used)} aria-label={`${used}% of the budget spent`} />
              <dl class="budget-figures">
                <div>
                  <dt>Spent</dt>
                  <dd>
                    {usd(s.spentNano)} <small class="muted">({used}%)</small>
                  </dd>
                </div>
                <div>
                  <dt>Reserved</dt>
                  <dd>{usd(s.reservedNano)}</dd>
                </div>
                <div>
                  <dt>Remaining</dt>
                  <dd>{usd(s.remainingNano)}</dd>
                </div>
                <div>
                  <dt>Projected</dt>
                  <dd class={projected > 100 ? "over" : undefined}>
                    {usd(s.projectedNano)} <small class="muted">({projected}%)</small>
                  </dd>
                </div>
              </dl>
              {crossed.length > 0 ? <p class="notice">Past {crossed.map((t) => `${t}%`).join(", ")} of the budget.</p> : null}
              <Chart spec={chart} label={`Spend of ${b.scope} ${b.target} this period against the budget`} />
              <form method="post" action={`/budgets/${b.id}/delete`}>
                <input type="hidden" name={CSRF_FIELD} value={csrfToken} />
                <button type="submit" class="outline secondary">
                  Delete
                </button>
              </form>
            </article>
          );
        })}
      </div>
      <article id="new-budget">
        <h2>Add a budget</h2>
        <form method="post" action="/budgets">
          <input type="hidden" name={CSRF_FIELD} value={csrfToken} />
          <div class="budget-fields">
            <label>
              Scope
              <select name="scope">
                {["team", "project", "key"].map((v) => (
                  <option value={v} selected={form.scope === v}>
                    {v}
                  </option>
                ))}
              </select>
            </label>
            <label>
              Team, project or key id
              <input type="text" name="target" value={form.target} required maxlength={128} placeholder="ml" />
            </label>
            <label>
              Amount, USD
              <input type="text" name="amount_usd" value={form.amount_usd} required inputmode="decimal" placeholder="500.00" />
            </label>
            <label>
              Period
              <select name="period">
                {["monthly", "weekly", "daily"].map((v) => (
                  <option value={v} selected={form.period === v}>
                    {v}
                  </option>
                ))}
              </select>
            </label>
            <label>
              Time zone
              <input type="text" name="timezone" value={form.timezone} required placeholder="Europe/London" />
            </label>
            <label>
              Warn at (%)
              <input type="text" name="soft_thresholds" value={form.soft_thresholds} placeholder="50, 80, 95" />
            </label>
            <label class="checkbox">
              <input type="checkbox" name="hard" value="true" checked={form.hard === "true"} />
              Hard: refuse calls over the budget
            </label>
          </div>
          <FormError error={error} />
          <button type="submit">Add budget</button>
        </form>
      </article>
    </>
  );
}
