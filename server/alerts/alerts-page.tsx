import { Hono, type Context } from "hono";
import type { AppDeps } from "../app.ts";
import { listBudgets } from "../budgets/budgets-store.ts";
import type { AlertRule } from "../db/schema.ts";
import { ApiError } from "../errors.ts";
import type { PageEnv } from "../pages/page-env.tsx";
import { parseInput } from "../validation.ts";
import { AlertsPage, type AlertForm } from "../../views/alerts/alerts.tsx";
import { type Channel, newAlertSchema, ruleAsBody } from "./alert-input.ts";
import { checkBudget } from "./api.ts";
import { createAlertRule, deleteAlertRule, getAlertRule, lastTransitions, listAlertRules, listRecentAlertEvents, setAlertRuleEnabled, updateAlertRule } from "./alerts-store.ts";
import { testSend, type TestSendResult } from "./test-send.ts";

// GET /alerts and its form posts (CSRF-checked by the pages middleware): rules through the same
// validator as POST /api/alerts, enable/disable, delete, a test send per channel, and history.

const HISTORY = 100;
const TEXT_FIELDS = ["kind", "budget_id", "threshold", "window_minutes", "emails", "webhook_url", "webhook_secret", "webhook_format"] as const;

const emptyForm = (): AlertForm => ({ kind: "error_rate", budget_id: "", threshold: "", window_minutes: "", emails: "", webhook_url: "", webhook_secret: "", webhook_format: "json", enabled: true });

/** A stored rule as the form shows it (the webhook secret is never put back into the page). */
function formOf(rule: AlertRule): AlertForm {
  const body = ruleAsBody(rule);
  const email = body.channels.find((c) => c.type === "email");
  const hook = body.channels.find((c) => c.type === "webhook");
  return {
    kind: rule.kind,
    budget_id: rule.budgetId === null ? "" : String(rule.budgetId),
    threshold: body.threshold == null ? "" : String(body.threshold),
    window_minutes: rule.windowMinutes === null ? "" : String(rule.windowMinutes),
    emails: email?.type === "email" ? email.to.join(", ") : "",
    webhook_url: hook?.type === "webhook" ? hook.url : "",
    webhook_secret: "",
    webhook_format: hook?.type === "webhook" ? (hook.format ?? "json") : "json",
    enabled: rule.enabled,
  };
}

/** The form as a POST /api/alerts body: one email channel and one webhook channel at most. */
function bodyOf(form: AlertForm, previous: AlertRule | null) {
  const channels: unknown[] = [];
  const to = form.emails.split(/[\s,;]+/).filter((a) => a !== "");
  if (to.length > 0) channels.push({ type: "email", to });
  if (form.webhook_url !== "") {
    // Editing: a blank secret keeps the one the same URL had.
    const old = previous ? (JSON.parse(previous.channels) as Channel[]).find((c) => c.type === "webhook" && c.url === form.webhook_url) : undefined;
    const secret = form.webhook_secret !== "" ? form.webhook_secret : old?.type === "webhook" ? old.secret : "";
    channels.push({ type: "webhook", url: form.webhook_url, secret, format: form.webhook_format === "slack" ? "slack" : "json" });
  }
  const number = (text: string) => (text === "" ? undefined : Number(text));
  return {
    kind: form.kind,
    budget_id: number(form.budget_id),
    threshold: number(form.threshold),
    window_minutes: number(form.window_minutes),
    enabled: form.enabled,
    channels,
  };
}

export function alertsPages({ db, clock, config }: Pick<AppDeps, "db" | "clock" | "config">): Hono<PageEnv> {
  const app = new Hono<PageEnv>();

  const render = async (c: Context<PageEnv>, opts: { form?: AlertForm; editing?: number | null; error?: string | null; tests?: { ruleId: number; results: TestSendResult[] } | null } = {}) => {
    const rules = await Promise.all(
      (await listAlertRules(db)).map(async (rule) => ({
        rule,
        channels: JSON.parse(rule.channels) as Channel[],
        firing: [...(await lastTransitions(db, rule.id)).values()].filter((t) => t.transition === "fired").map((t) => t.subject),
      })),
    );
    return c.render(
      <AlertsPage
        rules={rules}
        history={await listRecentAlertEvents(db, HISTORY)}
        budgets={await listBudgets(db)}
        form={opts.form ?? emptyForm()}
        editing={opts.editing ?? null}
        error={opts.error ?? null}
        tests={opts.tests ?? null}
        smtpConfigured={Boolean(config.SMTP_URL)}
        csrfToken={c.get("session")?.csrfToken ?? ""}
      />,
      { title: "Alerts", nav: "alerts" },
    );
  };

  const ruleOr404 = async (raw: string): Promise<AlertRule> => {
    const rule = /^\d{1,15}$/.test(raw) ? await getAlertRule(db, Number(raw)) : null;
    if (!rule) throw new ApiError({ status: 404, type: "invalid_request_error", code: "not_found", message: `No alert rule ${raw}.` });
    return rule;
  };

  const readForm = async (c: Context<PageEnv>): Promise<AlertForm> => {
    const body = await c.req.parseBody();
    const text = Object.fromEntries(TEXT_FIELDS.map((f) => [f, typeof body[f] === "string" ? (body[f] as string).trim() : ""])) as Record<(typeof TEXT_FIELDS)[number], string>;
    return { ...text, enabled: body.enabled === "on" };
  };

  /** Validate and save (create when `rule` is null), or render the form again with the error. */
  const save = async (c: Context<PageEnv>, rule: AlertRule | null) => {
    const form = await readForm(c);
    try {
      const input = parseInput(newAlertSchema, bodyOf(rule ? { ...form, kind: rule.kind } : form, rule), "form");
      await checkBudget(db, input);
      if (rule) await updateAlertRule(db, rule.id, input);
      else await createAlertRule(db, input, clock.now());
      return c.redirect("/alerts", 303);
    } catch (err) {
      if (!(err instanceof ApiError)) throw err;
      c.status(400);
      return render(c, { form: { ...form, webhook_secret: "" }, editing: rule?.id ?? null, error: err.message });
    }
  };

  app.get("/alerts", async (c) => {
    const edit = c.req.query("edit");
    if (edit === undefined) return render(c);
    const rule = await ruleOr404(edit);
    return render(c, { form: formOf(rule), editing: rule.id });
  });

  app.post("/alerts", (c) => save(c, null));
  app.post("/alerts/:id", async (c) => save(c, await ruleOr404(c.req.param("id"))));

  app.post("/alerts/:id/enable", async (c) => {
    await setAlertRuleEnabled(db, (await ruleOr404(c.req.param("id"))).id, true);
    return c.redirect("/alerts", 303);
  });
  app.post("/alerts/:id/disable", async (c) => {
    await setAlertRuleEnabled(db, (await ruleOr404(c.req.param("id"))).id, false);
    return c.redirect("/alerts", 303);
  });
  app.post("/alerts/:id/delete", async (c) => {
    await deleteAlertRule(db, (await ruleOr404(c.req.param("id"))).id);
    return c.redirect("/alerts", 303);
  });

  // The outcome is shown on the page this answers with: it is not stored anywhere to redirect to.
  app.post("/alerts/:id/test", async (c) => {
    const rule = await ruleOr404(c.req.param("id"));
    const raw = (await c.req.parseBody()).channel;
    const only = typeof raw === "string" && /^\d{1,2}$/.test(raw) ? Number(raw) : undefined;
    const results = await testSend(rule, { smtpUrl: config.SMTP_URL, from: config.REPORT_FROM, now: clock.now(), only });
    return render(c, { tests: { ruleId: rule.id, results } });
  });

  return app;
}
