import { createRoute, z } from "@hono/zod-openapi";
import type { AppDeps } from "../app.ts";
import type { Budget } from "../db/schema.ts";
import { ApiError } from "../errors.ts";
import { apiRouter, errors, json, jsonBody } from "../api/openapi.ts";
import { budgetJson, budgetJsonSchema, budgetPatchSchema, newBudgetSchema } from "./budget-input.ts";
import { budgetStanding, createBudget, deleteBudget, getBudget, listBudgets, updateBudget } from "./budgets-store.ts";

// /api/budgets: spend budgets of keys, teams and projects, each with where it stands this period.

const idParam = z.object({
  id: z
    .string()
    .regex(/^\d{1,15}$/, "must be a positive integer")
    .transform(Number)
    .meta({ param: { name: "id", in: "path" }, description: "Budget id", example: "1" }),
});

const budget200 = json(budgetJsonSchema, "The budget and where it stands this period");

export function budgetsRoutes({ db, clock, config }: Pick<AppDeps, "db" | "clock" | "config">) {
  const createBody = jsonBody(newBudgetSchema(config.REPORT_TZ), { description: "A new budget" });
  const create = createRoute({
    method: "post",
    path: "/",
    summary: "Create a budget",
    middleware: createBody.middleware,
    request: createBody.request,
    responses: { 201: budget200, ...errors() },
  });
  const list = createRoute({ method: "get", path: "/", summary: "Every budget", responses: { 200: json(z.object({ data: z.array(budgetJsonSchema) }), "The budgets"), ...errors() } });
  const get = createRoute({ method: "get", path: "/{id}", summary: "One budget", request: { params: idParam }, responses: { 200: budget200, ...errors(404) } });
  const patchBody = jsonBody(budgetPatchSchema, { description: "Any of amount_usd, period, timezone, soft_thresholds, hard" });
  const patch = createRoute({
    method: "patch",
    path: "/{id}",
    summary: "Change a budget",
    middleware: patchBody.middleware,
    request: { params: idParam, ...patchBody.request },
    responses: { 200: budget200, ...errors(404) },
  });
  const remove = createRoute({
    method: "delete",
    path: "/{id}",
    summary: "Delete a budget",
    request: { params: idParam },
    responses: { 200: json(z.object({ id: z.number().int(), deleted: z.literal(true) }), "Deleted"), ...errors(404) },
  });

  const found = (budget: Budget | null, id: number): Budget => {
    if (!budget) throw new ApiError({ status: 404, type: "invalid_request_error", code: "not_found", message: `no budget with id ${id}` });
    return budget;
  };
  const standing = async (budget: Budget) => budgetJson(await budgetStanding(db, budget, clock.now()));

  return apiRouter()
    .openapi(create, async (c) => {
      const b = c.var.body;
      const row = await createBudget(
        db,
        { scope: b.scope, target: b.target, amountNano: b.amount_usd, period: b.period, timezone: b.timezone, softThresholds: b.soft_thresholds, hard: b.hard },
        clock.now(),
      );
      return c.json(await standing(row), 201);
    })
    .openapi(list, async (c) => c.json({ data: await Promise.all((await listBudgets(db)).map(standing)) }, 200))
    .openapi(get, async (c) => c.json(await standing(found(await getBudget(db, c.req.valid("param").id), c.req.valid("param").id)), 200))
    .openapi(patch, async (c) => {
      const { id } = c.req.valid("param");
      const p = c.var.body;
      const row = await updateBudget(
        db,
        id,
        {
          ...(p.amount_usd !== undefined ? { amountNano: p.amount_usd } : {}),
          ...(p.period !== undefined ? { period: p.period } : {}),
          ...(p.timezone !== undefined ? { timezone: p.timezone } : {}),
          ...(p.soft_thresholds !== undefined ? { softThresholds: p.soft_thresholds } : {}),
          ...(p.hard !== undefined ? { hard: p.hard } : {}),
        },
        clock.now(),
      );
      return c.json(await standing(found(row, id)), 200);
    })
    .openapi(remove, async (c) => {
      const { id } = c.req.valid("param");
      if (!(await deleteBudget(db, id))) found(null, id);
      return c.json({ id, deleted: true as const }, 200);
    });
}
