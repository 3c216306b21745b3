import { createRoute, z } from "@hono/zod-openapi";
import type { AppDeps } from "../app.ts";
import { ApiError } from "../errors.ts";
import { apiRouter, errors, json, jsonBody } from "../api/openapi.ts";
import { getBudget } from "../budgets/budgets-store.ts";
import { alertEventJson, alertEventJsonSchema, alertJson, alertJsonSchema, newAlertSchema } from "./alert-input.ts";
import { createAlertRule, getAlertRule, listAlertEvents, listAlertRules } from "./alerts-store.ts";

// /api/alerts: who is told when a budget passes one of its soft thresholds.

const idParam = z.object({
  id: z
    .string()
    .regex(/^\d{1,15}$/, "must be a positive integer")
    .transform(Number)
    .meta({ param: { name: "id", in: "path" }, description: "Alert rule id", example: "1" }),
});

export function alertsRoutes({ db, clock }: Pick<AppDeps, "db" | "clock">) {
  const body = jsonBody(newAlertSchema, { description: "A rule and its channels" });
  const create = createRoute({ method: "post", path: "/", summary: "Create an alert rule", middleware: body.middleware, request: body.request, responses: { 201: json(alertJsonSchema, "The rule"), ...errors() } });
  const list = createRoute({ method: "get", path: "/", summary: "Every alert rule", responses: { 200: json(z.object({ data: z.array(alertJsonSchema) }), "The rules"), ...errors() } });
  const events = createRoute({
    method: "get",
    path: "/{id}/events",
    summary: "A rule's firings, newest first",
    request: { params: idParam },
    responses: { 200: json(z.object({ data: z.array(alertEventJsonSchema) }), "Its events"), ...errors(404) },
  });

  return apiRouter()
    .openapi(create, async (c) => {
      const b = c.var.body;
      if (b.budget_id != null && !(await getBudget(db, b.budget_id))) throw new ApiError({ status: 400, type: "invalid_request_error", code: "invalid_parameter", message: `budget_id: no budget with id ${b.budget_id}` });
      return c.json(alertJson(await createAlertRule(db, { budgetId: b.budget_id ?? null, channels: b.channels }, clock.now())), 201);
    })
    .openapi(list, async (c) => c.json({ data: (await listAlertRules(db)).map(alertJson) }, 200))
    .openapi(events, async (c) => {
      const { id } = c.req.valid("param");
      if (!(await getAlertRule(db, id))) throw new ApiError({ status: 404, type: "invalid_request_error", code: "not_found", message: `no alert rule with id ${id}` });
      return c.json({ data: (await listAlertEvents(db, id)).map(alertEventJson) }, 200);
    });
}
