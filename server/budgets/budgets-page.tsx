import { Hono, type Context } from "hono";
import type { AppDeps } from "../app.ts";
import { ApiError } from "../errors.ts";
import type { PageEnv } from "../pages/page-env.tsx";
import { parseInput } from "../validation.ts";
import { BudgetsPage, type BudgetForm } from "../../views/budgets/budgets.tsx";
import { newBudgetSchema } from "./budget-input.ts";
import { budgetStanding, createBudget, deleteBudget, listBudgets } from "./budgets-store.ts";
import { burnChart } from "./burn-chart.ts";

const FORM_FIELDS = ["scope", "target", "amount_usd", "period", "timezone", "soft_thresholds", "hard"] as const;

/** GET /budgets, POST /budgets (same validation as POST /api/budgets), POST /budgets/:id/delete. */
export function budgetsPages({ db, clock, config }: Pick<AppDeps, "db" | "clock" | "config">): Hono<PageEnv> {
  const app = new Hono<PageEnv>();
  const emptyForm: BudgetForm = { scope: "team", target: "", amount_usd: "", period: "monthly", timezone: config.REPORT_TZ, soft_thresholds: "50, 80, 95", hard: "true" };

  const render = async (c: Context<PageEnv>, form: BudgetForm, error: string | null) => {
    const now = clock.now();
    const budgets = await Promise.all(
      (await listBudgets(db)).map(async (b) => {
        const standing = await budgetStanding(db, b, now);
        return { standing, chart: await burnChart(db, standing, now) };
      }),
    );
    return c.render(<BudgetsPage budgets={budgets} form={form} error={error} csrfToken={c.get("session")?.csrfToken ?? ""} />, { title: "Budgets", nav: "budgets" });
  };

  app.get("/budgets", (c) => render(c, emptyForm, null));

  app.post("/budgets", async (c) => {
    const body = await c.req.parseBody();
    const form = Object.fromEntries(FORM_FIELDS.map((f) => [f, typeof body[f] === "string" ? (body[f] as string).trim() : ""])) as unknown as BudgetForm;
    const thresholds = form.soft_thresholds === "" ? [] : form.soft_thresholds.split(",").map((t) => Number(t.trim()));
    const input = { scope: form.scope, target: form.target, amount_usd: form.amount_usd, period: form.period, timezone: form.timezone, soft_thresholds: thresholds, hard: form.hard === "true" };
    try {
      const b = parseInput(newBudgetSchema(config.REPORT_TZ), input, "form");
      await createBudget(db, { scope: b.scope, target: b.target, amountNano: b.amount_usd, period: b.period, timezone: b.timezone, softThresholds: b.soft_thresholds, hard: b.hard }, clock.now());
      return c.redirect("/budgets", 303);
    } catch (err) {
      if (!(err instanceof ApiError)) throw err;
      c.status(400);
      return render(c, form, err.message);
    }
  });

  app.post("/budgets/:id/delete", async (c) => {
    const id = Number(c.req.param("id"));
    if (!Number.isSafeInteger(id) || !(await deleteBudget(db, id))) return c.notFound();
    return c.redirect("/budgets", 303);
  });

  return app;
}
