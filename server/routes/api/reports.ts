import { Hono, type Context } from "hono";
import type { AppDeps } from "../../app.ts";
import { ApiError } from "../../errors.ts";
import type { ReportSchedule } from "../../db/schema.ts";
import { sendNow } from "../../reports/deliver.ts";
import { deliveryJson, listDeliveries } from "../../reports/deliveries-store.ts";
import { renderReport } from "../../reports/render-report.tsx";
import { lastCompletePeriod, type ReportRange } from "../../reports/schedule.ts";
import { parseScheduleInput, parseSchedulePatch, parseSendRange } from "../../reports/schedule-input.ts";
import { createSchedule, deleteSchedule, getSchedule, listSchedules, scheduleJson, updateSchedule } from "../../reports/schedules-store.ts";
import { parsePage, parseRange, rejectUnknownParams } from "../../spend/query-params.ts";

// /api/reports: scheduled report emails. Mounted under /api, behind the admin token.

const invalid = (message: string) => new ApiError({ status: 400, type: "invalid_request_error", code: "invalid_parameter", message: message });

async function jsonBody(c: Context, optional = false): Promise<unknown> {
  const text = await c.req.text();
  if (optional && text.trim() === "") return undefined;
  try {
    return JSON.parse(text);
  } catch {
    throw invalid("body: must be valid JSON");
  }
}

/**
 * The range of a send or preview: ?from/?to (or the send body), validated like /api/usage (ISO
 * instant or date in the schedule's zone, on a 15-minute boundary); default the last complete period.
 */
function rangeOf(schedule: ReportSchedule, given: { from?: string; to?: string }, now: number): ReportRange {
  if (given.from === undefined || given.to === undefined) return lastCompletePeriod(schedule, now);
  const { from, to } = parseRange({ from: given.from, to: given.to }, schedule.timezone, now);
  return { start: from, end: to };
}

export function reportsRoutes({ db, clock, config, log }: Pick<AppDeps, "db" | "clock" | "config" | "log">): Hono {
  const app = new Hono();

  const scheduleOr404 = (raw: string): ReportSchedule => {
    if (!/^\d{1,15}$/.test(raw) || Number(raw) < 1) throw invalid("id: must be a positive integer");
    const schedule = getSchedule(db, Number(raw));
    if (!schedule) throw new ApiError({ status: 404, type: "invalid_request_error", code: "not_found", message: `no report schedule with id ${raw}` });
    return schedule;
  };

  app.get("/", (c) => c.json({ data: listSchedules(db).map((s) => scheduleJson(s, clock.now())) }));

  app.post("/", async (c) => {
    const now = clock.now();
    const schedule = createSchedule(db, parseScheduleInput(await jsonBody(c)), now);
    return c.json(scheduleJson(schedule, now), 201);
  });

  app.get("/:id", (c) => c.json(scheduleJson(scheduleOr404(c.req.param("id")), clock.now())));

  app.patch("/:id", async (c) => {
    const current = scheduleOr404(c.req.param("id"));
    const now = clock.now();
    return c.json(scheduleJson(updateSchedule(db, current, parseSchedulePatch(await jsonBody(c)), now), now));
  });

  app.delete("/:id", (c) => {
    const schedule = scheduleOr404(c.req.param("id"));
    deleteSchedule(db, schedule.id);
    return c.json({ id: schedule.id, deleted: true });
  });

  app.post("/:id/send", async (c) => {
    const schedule = scheduleOr404(c.req.param("id"));
    const now = clock.now();
    const range = rangeOf(schedule, parseSendRange(await jsonBody(c, true)), now);
    const delivery = await sendNow({ db, log, config }, schedule, range, now);
    if (delivery.status === "failed") {
      throw new ApiError({ status: 502, type: "api_error", code: "report_send_failed", message: `delivery ${delivery.id}: ${delivery.lastError ?? "send failed"}` });
    }
    return c.json(deliveryJson(delivery));
  });

  app.get("/:id/preview", async (c) => {
    const schedule = scheduleOr404(c.req.param("id"));
    const query = c.req.query();
    rejectUnknownParams(query, ["from", "to"]);
    if ((query.from === undefined) !== (query.to === undefined)) throw invalid(`${query.from === undefined ? "from" : "to"}: give both from and to, or neither`);
    const email = await renderReport(db, schedule, rangeOf(schedule, query, clock.now()), config.PUBLIC_URL);
    // The email has inline styles and no script; nothing else may load or run if it is opened here.
    return c.html(email.html, 200, { "content-security-policy": "default-src 'none'; style-src 'unsafe-inline'; img-src data:" });
  });

  app.get("/:id/deliveries", (c) => {
    const schedule = scheduleOr404(c.req.param("id"));
    const query = c.req.query();
    rejectUnknownParams(query, ["limit", "cursor"]);
    const page = parsePage(query, 50, 200);
    const rows = listDeliveries(db, schedule.id, page);
    const last = rows.at(-1);
    return c.json({ data: rows.map(deliveryJson), next_cursor: rows.length === page.limit && last ? String(last.id) : null });
  });

  return app;
}
