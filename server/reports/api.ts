import { createRoute, z } from "@hono/zod-openapi";
import type { AppDeps } from "../app.ts";
import { ApiError } from "../errors.ts";
import type { ReportSchedule } from "../db/schema.ts";
import { sendNow } from "./deliver.ts";
import { deliveryJson, deliveryJsonSchema, listDeliveries } from "./deliveries-store.ts";
import { renderReport } from "./render-report.tsx";
import { lastCompletePeriod, type ReportRange } from "./schedule.ts";
import { scheduleInputSchema, schedulePatchSchema, sendRangeSchema } from "./schedule-input.ts";
import { createSchedule, deleteSchedule, getSchedule, listSchedules, scheduleJson, scheduleJsonSchema, updateSchedule } from "./schedules-store.ts";
import { pageParams, parseRange } from "../usage/query-params.ts";
import { queryText, strictQuery } from "../validation.ts";
import { apiRouter, errors, json, jsonBody, nextCursor } from "../api/openapi.ts";

// /api/reports: scheduled report emails. Mounted under /api, behind the admin token.

const idParam = z.object({
  id: z
    .string()
    .regex(/^\d{1,15}$/, "must be a positive integer")
    .transform(Number)
    .refine((n) => n >= 1, "must be a positive integer")
    .meta({ param: { name: "id", in: "path" }, description: "Schedule id", example: "1" }),
});

const rangeText = (which: string) =>
  queryText().optional().meta({ description: `ISO instant or date in the schedule's zone (${which}); give both from and to, or neither` });

/** ?from&to of a preview: both or neither (neither = the last complete period). */
const previewQuery = strictQuery({ from: rangeText("inclusive"), to: rangeText("exclusive") }).superRefine((q, ctx) => {
  if ((q.from === undefined) !== (q.to === undefined)) {
    ctx.addIssue({ code: "custom", path: [q.from === undefined ? "from" : "to"], message: "give both from and to, or neither" });
  }
});

/**
 * The range of a send or preview: ?from/?to (or the send body), validated like /api/usage (ISO
 * instant, any millisecond, or date in the schedule's zone); default the last complete period.
 * Checked here rather than in the schema: bare dates are read in the schedule's own zone.
 */
function rangeOf(schedule: ReportSchedule, given: { from?: string | undefined; to?: string | undefined }, now: number): ReportRange {
  if (given.from === undefined || given.to === undefined) return lastCompletePeriod(schedule, now);
  const { from, to } = parseRange({ from: given.from, to: given.to }, schedule.timezone, now);
  return { start: from, end: to };
}

const schedule200 = json(scheduleJsonSchema, "The schedule, with its next run");

const list = createRoute({
  method: "get",
  path: "/",
  summary: "Every report schedule",
  responses: { 200: json(z.object({ data: z.array(scheduleJsonSchema) }), "The schedules"), ...errors() },
});

const createBody = jsonBody(scheduleInputSchema, { description: "A new schedule; filter defaults to null and enabled to true" });
const create = createRoute({
  method: "post",
  path: "/",
  summary: "Create a report schedule",
  middleware: createBody.middleware,
  request: createBody.request,
  responses: { 201: json(scheduleJsonSchema, "The stored schedule, with id and next_run_at"), ...errors() },
});

const get = createRoute({
  method: "get",
  path: "/{id}",
  summary: "One report schedule",
  request: { params: idParam },
  responses: { 200: schedule200, ...errors(404) },
});

const patchBody = jsonBody(schedulePatchSchema, { description: "Any of the schedule's fields, at least one" });
const patch = createRoute({
  method: "patch",
  path: "/{id}",
  summary: "Change a report schedule (next_run_at follows)",
  middleware: patchBody.middleware,
  request: { params: idParam, ...patchBody.request },
  responses: { 200: schedule200, ...errors(404) },
});

const remove = createRoute({
  method: "delete",
  path: "/{id}",
  summary: "Delete a report schedule",
  request: { params: idParam },
  responses: { 200: json(z.object({ id: z.number().int(), deleted: z.literal(true) }), "Deleted"), ...errors(404) },
});

const sendBody = jsonBody(sendRangeSchema, { description: "Nothing (the last complete period) or both from and to", optional: true });
const send = createRoute({
  method: "post",
  path: "/{id}/send",
  summary: "Send the report now",
  middleware: sendBody.middleware,
  request: { params: idParam, ...sendBody.request },
  responses: { 200: json(deliveryJsonSchema, "The delivery"), ...errors(404, 502) },
});

const preview = createRoute({
  method: "get",
  path: "/{id}/preview",
  summary: "The report's HTML, rendered without sending",
  request: { params: idParam, query: previewQuery },
  responses: { 200: { description: "The email's HTML", content: { "text/html": { schema: z.string() } } }, ...errors(404) },
});

const deliveries = createRoute({
  method: "get",
  path: "/{id}/deliveries",
  summary: "What was sent, failed (with the SMTP error and next retry) or kept unsent, newest first",
  request: { params: idParam, query: strictQuery(pageParams(50, 200)) },
  responses: { 200: json(z.object({ data: z.array(deliveryJsonSchema), next_cursor: nextCursor }), "A page of deliveries"), ...errors(404) },
});

export function reportsRoutes({ db, clock, config, log }: Pick<AppDeps, "db" | "clock" | "config" | "log">) {
  const scheduleOr404 = async (id: number): Promise<ReportSchedule> => {
    const schedule = await getSchedule(db, id);
    if (!schedule) throw new ApiError({ status: 404, type: "invalid_request_error", code: "not_found", message: `no report schedule with id ${id}` });
    return schedule;
  };

  return apiRouter()
    .openapi(list, async (c) => c.json({ data: (await listSchedules(db)).map((s) => scheduleJson(s, clock.now())) }, 200))
    .openapi(create, async (c) => {
      const now = clock.now();
      return c.json(scheduleJson(await createSchedule(db, c.var.body, now), now), 201);
    })
    .openapi(get, async (c) => c.json(scheduleJson(await scheduleOr404(c.req.valid("param").id), clock.now()), 200))
    .openapi(patch, async (c) => {
      const current = await scheduleOr404(c.req.valid("param").id);
      const now = clock.now();
      return c.json(scheduleJson(await updateSchedule(db, current, c.var.body, now), now), 200);
    })
    .openapi(remove, async (c) => {
      const schedule = await scheduleOr404(c.req.valid("param").id);
      await deleteSchedule(db, schedule.id);
      return c.json({ id: schedule.id, deleted: true as const }, 200);
    })
    .openapi(send, async (c) => {
      const schedule = await scheduleOr404(c.req.valid("param").id);
      const now = clock.now();
      const delivery = await sendNow({ db, log, config }, schedule, rangeOf(schedule, c.var.body, now), now);
      if (delivery.status === "failed") {
        throw new ApiError({ status: 502, type: "api_error", code: "report_send_failed", message: `delivery ${delivery.id}: ${delivery.lastError ?? "send failed"}` });
      }
      return c.json(deliveryJson(delivery), 200);
    })
    .openapi(preview, async (c) => {
      const schedule = await scheduleOr404(c.req.valid("param").id);
      const email = await renderReport(db, schedule, rangeOf(schedule, c.req.valid("query"), clock.now()), config.PUBLIC_URL);
      // The email has inline styles and no script; nothing else may load or run if it is opened here.
      return c.html(email.html, 200, { "content-security-policy": "default-src 'none'; style-src 'unsafe-inline'; img-src data:" });
    })
    .openapi(deliveries, async (c) => {
      const schedule = await scheduleOr404(c.req.valid("param").id);
      const { limit, cursor } = c.req.valid("query");
      const rows = await listDeliveries(db, schedule.id, { limit, ...(cursor !== undefined ? { before: cursor } : {}) });
      const last = rows.at(-1);
      return c.json({ data: rows.map(deliveryJson), next_cursor: rows.length === limit && last ? String(last.id) : null }, 200);
    });
}
