import { Hono, type Context } from "hono";
import type { AppDeps } from "../app.ts";
import type { ReportSchedule } from "../db/schema.ts";
import { ApiError } from "../errors.ts";
import type { PageEnv } from "../pages/page-env.tsx";
import { sendKept } from "./deliver.ts";
import { getDelivery } from "./deliveries-store.ts";
import { periodNames } from "./render/period-name.ts";
import { renderReport } from "./render-report.tsx";
import { lastCompletePeriod, type ReportRange } from "./schedule.ts";
import { getSchedule, recipientsOf } from "./schedules-store.ts";
import { EmailView } from "../../views/reports/email-view.tsx";

// Report emails in the dashboard, for the session (GET /api/reports/:id/preview wants the admin
// token, which a browser does not send): the preview of a schedule's next email, a kept delivery,
// and "Send" for a delivery kept unsent once SMTP_URL is set (CSRF-checked by the pages middleware).

/**
 * The email's own HTML (inline styles, no script) as the frame's document. Its policy lets those
 * styles apply and nothing else load or run (`sandbox`: no script, an opaque origin), and only
 * this dashboard may frame it. The pages' security headers leave a policy a handler set alone.
 */
function emailDocument(c: Context<PageEnv>, html: string) {
  return c.html(html, 200, {
    "content-security-policy": "default-src 'none'; style-src 'unsafe-inline'; img-src data:; base-uri 'none'; form-action 'none'; frame-ancestors 'self'; sandbox",
    "x-frame-options": "SAMEORIGIN",
    "cache-control": "no-store",
  });
}

const notFound = (what: string) => new ApiError({ status: 404, type: "invalid_request_error", code: "not_found", message: `No ${what}.` });

export function reportEmailPages({ db, clock, config, log }: Pick<AppDeps, "db" | "clock" | "config" | "log">): Hono<PageEnv> {
  const app = new Hono<PageEnv>();

  const scheduleOr404 = async (raw: string): Promise<ReportSchedule> => {
    const schedule = /^\d{1,15}$/.test(raw) ? await getSchedule(db, Number(raw)) : undefined;
    if (!schedule) throw notFound(`report schedule ${raw}`);
    return schedule;
  };
  const deliveryOr404 = async (raw: string) => {
    const delivery = /^\d{1,15}$/.test(raw) ? await getDelivery(db, Number(raw)) : undefined;
    const schedule = delivery ? await getSchedule(db, delivery.scheduleId) : undefined;
    if (!delivery || !schedule) throw notFound(`report delivery ${raw}`);
    return { delivery, schedule };
  };
  const periodOf = (schedule: ReportSchedule, range: ReportRange) => periodNames(schedule.period, range, schedule.timezone).title;

  // The next email as it would go out now: the last complete period, rendered as the send renders it.
  app.get("/reports/:id/preview", async (c) => {
    const schedule = await scheduleOr404(c.req.param("id"));
    const range = lastCompletePeriod(schedule, clock.now());
    const email = await renderReport(db, schedule, range, config.PUBLIC_URL);
    return c.render(
      <EmailView
        heading="Preview"
        scheduleName={schedule.name}
        period={periodOf(schedule, range)}
        subject={email.subject}
        recipients={recipientsOf(schedule)}
        emailUrl={`/reports/${schedule.id}/preview/email`}
        editUrl={`/reports/${schedule.id}/edit`}
        note={schedule.enabled ? null : "This schedule is off: nothing is sent until it is enabled again."}
      />,
      { title: `Preview: ${schedule.name}`, nav: "reports" },
    );
  });

  app.get("/reports/:id/preview/email", async (c) => {
    const schedule = await scheduleOr404(c.req.param("id"));
    const email = await renderReport(db, schedule, lastCompletePeriod(schedule, clock.now()), config.PUBLIC_URL);
    return emailDocument(c, email.html);
  });

  app.get("/reports/delivery/:id", async (c) => {
    const { delivery, schedule } = await deliveryOr404(c.req.param("id"));
    const kept = delivery.status === "not_sent";
    return c.render(
      <EmailView
        heading={`Delivery ${delivery.id}`}
        scheduleName={schedule.name}
        period={periodOf(schedule, { start: delivery.periodStart, end: delivery.periodEnd })}
        subject={delivery.subject}
        recipients={recipientsOf(schedule)}
        emailUrl={delivery.html === null ? null : `/reports/delivery/${delivery.id}/email`}
        delivery={delivery}
        send={
          kept && config.SMTP_URL
            ? { action: `/reports/delivery/${delivery.id}/send`, csrfToken: c.get("session")?.csrfToken ?? "", label: "Send it now" }
            : null
        }
        note={
          kept
            ? config.SMTP_URL
              ? "Kept unsent while SMTP_URL was not set. Sending renders it again, so calls recorded and prices changed since are included."
              : "Kept unsent: SMTP_URL is not set. Set SMTP_URL (and REPORT_FROM) and restart tollbooth, then send it from here."
            : null
        }
      />,
      { title: `Delivery ${delivery.id}`, nav: "reports" },
    );
  });

  app.get("/reports/delivery/:id/email", async (c) => {
    const { delivery } = await deliveryOr404(c.req.param("id"));
    if (delivery.html === null) throw notFound(`rendered email for delivery ${delivery.id}`);
    return emailDocument(c, delivery.html);
  });

  app.post("/reports/delivery/:id/send", async (c) => {
    const { delivery, schedule } = await deliveryOr404(c.req.param("id"));
    const sent = await sendKept({ db, log, config }, schedule, delivery, clock.now());
    // Already sent (a second click) or no SMTP: the delivery's own page says where it stands.
    if (!sent) return c.redirect(`/reports/delivery/${delivery.id}`, 303);
    return c.redirect(`/reports?done=sent&delivery=${sent.id}`, 303);
  });

  return app;
}
