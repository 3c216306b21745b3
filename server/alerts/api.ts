import { createRoute, z } from "@hono/zod-openapi";
import type { AppDeps } from "../app.ts";
import type { AlertRule } from "../db/schema.ts";
import { ApiError } from "../errors.ts";
import { apiRouter, errors, json, jsonBody } from "../api/openapi.ts";
import { getBudget } from "../budgets/budgets-store.ts";
import { invalidInput } from "../validation.ts";
import { alertEventJson, alertEventJsonSchema, alertJson, alertJsonSchema, alertPatchSchema, newAlertSchema, ruleAsBody, testSendJsonSchema, type RuleInput } from "./alert-input.ts";
import { createAlertRule, deleteAlertRule, getAlertRule, listAlertEvents, listAlertRules, updateAlertRule } from "./alerts-store.ts";
import { testSend } from "./test-send.ts";

// /api/alerts: rules (budget thresholds and projections, error rate, p95 latency, spend
// anomalies), their fired and resolved events, and a test send to their channels.

const idParam = z.object({
  id: z
    .string()
    .regex(/^\d{1,15}$/, "must be a positive integer")
    .transform(Number)
    .meta({ param: { name: "id", in: "path" }, description: "Alert rule id", example: "1" }),
});

/** A rule's budget must exist: the foreign key would refuse it with a 500 otherwise. */
export async function checkBudget(db: AppDeps["db"], input: RuleInput): Promise<void> {
  if (input.budgetId !== null && !(await getBudget(db, input.budgetId))) {
    throw new ApiError({ status: 400, type: "invalid_request_error", code: "invalid_parameter", message: `budget_id: no budget with id ${input.budgetId}` });
  }
}

/** A rule with `patch` applied, checked as a whole (a threshold must suit the rule's kind). */
function patchedRule(rule: AlertRule, patch: Record<string, unknown>): RuleInput {
  const defined = Object.fromEntries(Object.entries(patch).filter(([, v]) => v !== undefined));
  const parsed = newAlertSchema.safeParse({ ...ruleAsBody(rule), ...defined });
  if (!parsed.success) throw invalidInput(parsed.error, "json");
  return parsed.data;
}

export function alertsRoutes({ db, clock, config }: Pick<AppDeps, "db" | "clock" | "config">) {
  const body = jsonBody(newAlertSchema, { description: "A rule and its channels" });
  const create = createRoute({ method: "post", path: "/", summary: "Create an alert rule", middleware: body.middleware, request: body.request, responses: { 201: json(alertJsonSchema, "The rule"), ...errors() } });
  const list = createRoute({ method: "get", path: "/", summary: "Every alert rule", responses: { 200: json(z.object({ data: z.array(alertJsonSchema) }), "The rules"), ...errors() } });
  const get = createRoute({ method: "get", path: "/{id}", summary: "One alert rule", request: { params: idParam }, responses: { 200: json(alertJsonSchema, "The rule"), ...errors(404) } });
  const patchBody = jsonBody(alertPatchSchema, { description: "Any of budget_id, threshold, window_minutes, enabled, channels (channels replace the old ones, secrets included)" });
  const patch = createRoute({
    method: "patch",
    path: "/{id}",
    summary: "Change an alert rule",
    middleware: patchBody.middleware,
    request: { params: idParam, ...patchBody.request },
    responses: { 200: json(alertJsonSchema, "The rule"), ...errors(404) },
  });
  const remove = createRoute({
    method: "delete",
    path: "/{id}",
    summary: "Delete an alert rule and its events",
    request: { params: idParam },
    responses: { 200: json(z.object({ id: z.number().int(), deleted: z.literal(true) }), "Deleted"), ...errors(404) },
  });
  const events = createRoute({
    method: "get",
    path: "/{id}/events",
    summary: "A rule's firings and resolutions, newest first",
    request: { params: idParam },
    responses: { 200: json(z.object({ data: z.array(alertEventJsonSchema) }), "Its events"), ...errors(404) },
  });
  const test = createRoute({
    method: "post",
    path: "/{id}/test",
    summary: "Send a test message to each of the rule's channels, once, and say what each answered",
    request: { params: idParam },
    responses: { 200: json(testSendJsonSchema, "One result per channel"), ...errors(404) },
  });

  const found = async (id: number): Promise<AlertRule> => {
    const rule = await getAlertRule(db, id);
    if (!rule) throw new ApiError({ status: 404, type: "invalid_request_error", code: "not_found", message: `no alert rule with id ${id}` });
    return rule;
  };

  return apiRouter()
    .openapi(create, async (c) => {
      await checkBudget(db, c.var.body);
      return c.json(alertJson(await createAlertRule(db, c.var.body, clock.now())), 201);
    })
    .openapi(list, async (c) => c.json({ data: (await listAlertRules(db)).map(alertJson) }, 200))
    .openapi(get, async (c) => c.json(alertJson(await found(c.req.valid("param").id)), 200))
    .openapi(patch, async (c) => {
      const rule = await found(c.req.valid("param").id);
      const input = patchedRule(rule, c.var.body);
      await checkBudget(db, input);
      return c.json(alertJson((await updateAlertRule(db, rule.id, input)) ?? rule), 200);
    })
    .openapi(remove, async (c) => {
      const { id } = c.req.valid("param");
      if (!(await deleteAlertRule(db, id))) await found(id);
      return c.json({ id, deleted: true as const }, 200);
    })
    .openapi(events, async (c) => {
      const rule = await found(c.req.valid("param").id);
      return c.json({ data: (await listAlertEvents(db, rule.id)).map(alertEventJson) }, 200);
    })
    .openapi(test, async (c) => {
      const rule = await found(c.req.valid("param").id);
      return c.json({ results: await testSend(rule, { smtpUrl: config.SMTP_URL, from: config.REPORT_FROM, now: clock.now() }) }, 200);
    });
}
