import { Hono, type Context } from "hono";
import type { AppDeps } from "../app.ts";
import { ApiError } from "../errors.ts";
import { sendNow } from "./deliver.ts";
import { sendOutcomeOf, type Flash } from "./send-outcome.ts";
import { listRecentDeliveries } from "./deliveries-store.ts";
import { periodNames } from "./render/period-name.ts";
import { lastCompletePeriod } from "./schedule.ts";
import { parseScheduleInput } from "./schedule-input.ts";
import { createSchedule, deleteSchedule, filterOf, getSchedule, listSchedules, recipientsOf, scheduleJson, updateSchedule } from "./schedules-store.ts";
import type { ReportSchedule } from "../db/schema.ts";
import { EditSchedulePage, ReportsPage, type ReportForm } from "../../views/reports/reports.tsx";
import type { PageEnv } from "../pages/page-env.tsx";

// GET /reports and its form posts (CSRF-checked by the pages middleware). Creation goes through
// the same validator as POST /api/reports, so the page and the API accept and refuse alike.

const RECENT = 50;
const DONE: Record<string, string> = {
  created: "Schedule added.",
  updated: "Schedule saved.",
  deleted: "Schedule deleted.",
  enabled: "Schedule enabled: it sends at its next run.",
  disabled: "Schedule disabled: nothing is sent (retries included) until it is enabled again.",
};
const TEXT_FIELDS = ["name", "kind", "period", "send_at", "timezone", "recipients", "team", "project", "model"] as const;

export function reportsPages({ db, clock, config, log }: Pick<AppDeps, "db" | "clock" | "config" | "log">): Hono<PageEnv> {
  const app = new Hono<PageEnv>();
  const emptyForm = (): ReportForm => ({ name: "", kind: "spend", period: "monthly", send_at: "09:00", timezone: config.REPORT_TZ, recipients: "", team: "", project: "", model: "", enabled: true });

  const render = async (c: Context<PageEnv>, form: ReportForm, error: string | null, flash: Flash | null) => {
    const now = clock.now();
    const schedules = await listSchedules(db);
    const byId = new Map(schedules.map((s) => [s.id, s]));
    const deliveries = (await listRecentDeliveries(db, RECENT)).map((delivery) => {
      const schedule = byId.get(delivery.scheduleId);
      const range = { start: delivery.periodStart, end: delivery.periodEnd };
      const period = schedule ? periodNames(schedule.period, range, schedule.timezone).title : "";
      return { delivery, scheduleName: schedule?.name ?? `#${delivery.scheduleId}`, period };
    });
    return c.render(
      <ReportsPage
        schedules={schedules.map((s) => scheduleJson(s, now))}
        deliveries={deliveries}
        form={form}
        error={error}
        flash={flash}
        csrfToken={c.get("session")?.csrfToken ?? ""}
        smtpConfigured={Boolean(config.SMTP_URL)}
      />,
      { title: "Reports", nav: "reports" },
    );
  };

  app.get("/reports", async (c) => {
    const done = c.req.query("done");
    const flash: Flash | null =
      done === "sent" ? await sendOutcomeOf(db, c.req.query("delivery")) : done !== undefined && done in DONE ? { tone: "ok", text: DONE[done]! } : null;
    return render(c, emptyForm(), null, flash);
  });

  app.post("/reports", async (c) => {
    const form = await formOf(c);
    try {
      await createSchedule(db, parseForm(form), clock.now());
      // Post/redirect/get: a reload shows the page instead of adding the schedule twice.
      return c.redirect("/reports?done=created", 303);
    } catch (err) {
      if (!(err instanceof ApiError)) throw err;
      c.status(400);
      return render(c, form, err.message, null);
    }
  });

  /** The form as the API's validator wants it (recipients split, empty filters left out). */
  function parseForm(form: ReportForm) {
    const filter = Object.fromEntries((["team", "project", "model"] as const).filter((k) => form[k] !== "").map((k) => [k, form[k]]));
    return parseScheduleInput({
      name: form.name,
      kind: form.kind,
      period: form.period,
      send_at: form.send_at,
      timezone: form.timezone,
      recipients: form.recipients.split(/[\s,;]+/).filter((a) => a !== ""),
      filter: Object.keys(filter).length > 0 ? filter : null,
      enabled: form.enabled,
    });
  }

  const scheduleOr404 = async (raw: string) => {
    const schedule = /^\d{1,15}$/.test(raw) ? await getSchedule(db, Number(raw)) : undefined;
    if (!schedule) throw new ApiError({ status: 404, type: "invalid_request_error", code: "not_found", message: `No report schedule ${raw}.` });
    return schedule;
  };

  // "Send now" sends the last complete period; a failure is shown in Recent deliveries.
  app.post("/reports/:id/send", async (c) => {
    const schedule = await scheduleOr404(c.req.param("id"));
    const now = clock.now();
    const delivery = await sendNow({ db, log, config }, schedule, lastCompletePeriod(schedule, now), now);
    return c.redirect(`/reports?done=sent&delivery=${delivery.id}`, 303);
  });

  const renderEdit = (c: Context<PageEnv>, id: number, form: ReportForm, error: string | null) =>
    c.render(<EditSchedulePage id={id} form={form} error={error} csrfToken={c.get("session")?.csrfToken ?? ""} />, { title: `Edit ${form.name}`, nav: "reports" });

  app.get("/reports/:id/edit", async (c) => {
    const schedule = await scheduleOr404(c.req.param("id"));
    return renderEdit(c, schedule.id, formFromSchedule(schedule), null);
  });

  app.post("/reports/:id/edit", async (c) => {
    const schedule = await scheduleOr404(c.req.param("id"));
    const form = await formOf(c);
    try {
      await updateSchedule(db, schedule, parseForm(form), clock.now());
      return c.redirect("/reports?done=updated", 303);
    } catch (err) {
      if (!(err instanceof ApiError)) throw err;
      c.status(400);
      return renderEdit(c, schedule.id, form, err.message);
    }
  });

  // Enable / disable from the schedules table: one field, the same update as PATCH /api/reports/:id.
  app.post("/reports/:id/enabled", async (c) => {
    const schedule = await scheduleOr404(c.req.param("id"));
    const enabled = (await c.req.parseBody()).enabled === "1";
    await updateSchedule(db, schedule, { enabled }, clock.now());
    return c.redirect(`/reports?done=${enabled ? "enabled" : "disabled"}`, 303);
  });

  app.post("/reports/:id/delete", async (c) => {
    await deleteSchedule(db, (await scheduleOr404(c.req.param("id"))).id);
    return c.redirect("/reports?done=deleted", 303);
  });

  return app;
}

async function formOf(c: Context<PageEnv>): Promise<ReportForm> {
  const body = await c.req.parseBody();
  const text = Object.fromEntries(TEXT_FIELDS.map((f) => [f, typeof body[f] === "string" ? (body[f] as string).trim() : ""])) as Record<(typeof TEXT_FIELDS)[number], string>;
  return { ...text, enabled: body.enabled === "on" };
}

function formFromSchedule(s: ReportSchedule): ReportForm {
  const filter = filterOf(s) ?? {};
  return {
    name: s.name,
    kind: s.kind,
    period: s.period,
    send_at: s.sendAt,
    timezone: s.timezone,
    recipients: recipientsOf(s).join(", "),
    team: filter.team ?? "",
    project: filter.project ?? "",
    model: filter.model ?? "",
    enabled: s.enabled,
  };
}
