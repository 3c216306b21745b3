import type { ReportDelivery } from "../../server/db/schema.ts";
import { CSRF_FIELD } from "../../server/sessions/csrf.ts";
import type { ScheduleJson } from "../../server/reports/schedules-store.ts";
import type { Flash } from "../../server/reports/send-outcome.ts";
import { Time, FormError } from "../components/bits.tsx";

// /reports: scheduled report emails, their next run, recent deliveries (with the SMTP error or
// "not sent: no SMTP configured") and a form to add one. Same data as GET /api/reports.

export interface ReportForm {
  name: string;
  kind: string;
  period: string;
  send_at: string;
  timezone: string;
  recipients: string;
  team: string;
  project: string;
  model: string;
  enabled: boolean;
}

export interface ReportsProps {
  schedules: ScheduleJson[];
  deliveries: Array<{ delivery: ReportDelivery; scheduleName: string; period: string }>;
  form: ReportForm;
  error: string | null;
  flash: Flash | null;
  csrfToken: string;
  smtpConfigured: boolean;
}

const STATUS: Record<ReportDelivery["status"], [kind: string, label: string]> = {
  sent: ["ok", "sent"],
  not_sent: ["warn", "not sent"],
  failed: ["err", "failed"],
  claimed: ["warn", "sending"],
  skipped: ["", "skipped"],
};

function filterText(filter: ScheduleJson["filter"]): string {
  if (!filter) return "all calls";
  return Object.entries(filter)
    .map(([k, v]) => `${k} ${v}`)
    .join(", ");
}

function Csrf({ token }: { token: string }) {
  return <input type="hidden" name={CSRF_FIELD} value={token} />;
}

function SchedulesTable({ schedules, csrfToken }: { schedules: ScheduleJson[]; csrfToken: string }) {
  if (schedules.length === 0) return <p class="empty">No schedules yet. Add one below, or POST /api/reports.</p>;
  return (
    <div class="table-scroll">
      <table class="striped reports">
        <thead>
          <tr>
            <th>Name</th>
            <th>Report</th>
            <th>When</th>
            <th>Recipients</th>
            <th>Next run</th>
            <th />
          </tr>
        </thead>
        <tbody>
          {schedules.map((s) => (
            <tr>
              <td>
                {s.name} {s.enabled ? null : <span class="badge">off</span>}
              </td>
              <td>
                {s.period} {s.kind === "spend" ? "spend report" : "failures digest"}
                <br />
                <small class="muted">{filterText(s.filter)}</small>
              </td>
              <td class="nowrap">
                {s.send_at} <small class="muted">{s.timezone}</small>
              </td>
              <td>{s.recipients.join(", ")}</td>
              <td class="nowrap">{s.next_run_at ? <Time iso={s.next_run_at} /> : <span class="muted">–</span>}</td>
              <td class="actions">
                <a href={`/reports/${s.id}/preview`}>Preview</a>
                <a href={`/reports/${s.id}/edit`}>Edit</a>
                <form method="post" action={`/reports/${s.id}/enabled`} class="inline">
                  <Csrf token={csrfToken} />
                  <input type="hidden" name="enabled" value={s.enabled ? "0" : "1"} />
                  <button type="submit" class="outline secondary">
                    {s.enabled ? "Disable" : "Enable"}
                  </button>
                </form>
                <form method="post" action={`/reports/${s.id}/send`} class="inline">
                  <Csrf token={csrfToken} />
                  <button type="submit" class="outline">
                    Send now
                  </button>
                </form>
                <form method="post" action={`/reports/${s.id}/delete`} class="inline">
                  <Csrf token={csrfToken} />
                  <button type="submit" class="outline secondary">
                    Delete
                  </button>
                </form>
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

function DeliveriesTable({ deliveries }: { deliveries: ReportsProps["deliveries"] }) {
  if (deliveries.length === 0) return <p class="empty">Nothing sent yet.</p>;
  return (
    <div class="table-scroll">
      <table class="striped deliveries">
        <thead>
          <tr>
            <th>Schedule</th>
            <th>Period</th>
            <th>Status</th>
            <th class="num">Attempts</th>
            <th>When</th>
            <th>Error or subject</th>
          </tr>
        </thead>
        <tbody>
          {deliveries.map(({ delivery: d, scheduleName, period }) => {
            const [kind, label] = STATUS[d.status];
            const when = d.sentAt ?? d.createdAt;
            return (
              <tr>
                <td>{scheduleName}</td>
                <td class="nowrap">
                  {period}
                  {d.trigger === "manual" ? <small class="muted"> (manual)</small> : null}
                </td>
                <td>
                  <span class={`badge ${kind}`}>{label}</span>
                </td>
                <td class="num">{d.attempts}</td>
                <td class="nowrap">
                  <Time iso={new Date(when).toISOString()} />
                  {d.status === "failed" && d.nextAttemptAt !== null ? (
                    <>
                      <br />
                      <small class="muted">
                        retry <Time iso={new Date(d.nextAttemptAt).toISOString()} />
                      </small>
                    </>
                  ) : null}
                </td>
                <td>
                  {d.html !== null || d.status === "not_sent" ? (
                    <a href={`/reports/delivery/${d.id}`} class="open-delivery">
                      {d.status === "not_sent" ? "Open or send" : "Open"}
                    </a>
                  ) : null}{" "}
                  {d.status !== "sent" && d.lastError ? (
                    <div class="err-msg" title={d.lastError}>
                      {d.lastError}
                    </div>
                  ) : null}
                  {d.subject ? <small class="muted">{d.subject}</small> : null}
                </td>
              </tr>
            );
          })}
        </tbody>
      </table>
    </div>
  );
}

interface FormTarget {
  id: string;
  heading: string;
  action: string;
  submit: string;
}

const ADD: FormTarget = { id: "add-report", heading: "Add a schedule", action: "/reports", submit: "Add schedule" };

function ScheduleForm({ form, error, csrfToken, target = ADD }: { form: ReportForm; error: string | null; csrfToken: string; target?: FormTarget }) {
  const option = (value: string, label: string, current: string) => (
    <option value={value} selected={value === current}>
      {label}
    </option>
  );
  return (
    <article id={target.id}>
      <h2>{target.heading}</h2>
      <form method="post" action={target.action}>
        <Csrf token={csrfToken} />
        <div class="filter-row">
          <label>
            Name
            <input type="text" name="name" value={form.name} required maxlength={200} placeholder="Finance monthly" />
          </label>
          <label>
            Report
            <select name="kind">
              {option("spend", "Spend summary", form.kind)}
              {option("failures", "Failed-requests digest", form.kind)}
            </select>
          </label>
          <label>
            Period
            <select name="period">
              {option("daily", "Daily (previous day)", form.period)}
              {option("weekly", "Weekly (previous Mon–Sun)", form.period)}
              {option("monthly", "Monthly (previous month)", form.period)}
            </select>
          </label>
          <label>
            Send at
            <input type="time" name="send_at" value={form.send_at} required />
          </label>
          <label>
            Time zone
            <input type="text" name="timezone" value={form.timezone} required placeholder="Europe/London" />
          </label>
        </div>
        <label>
          Recipients
          <textarea name="recipients" rows={2} required placeholder="finance@example.com, oncall@example.com">
            {form.recipients}
          </textarea>
          <small class="muted">Separate addresses with commas, spaces or new lines.</small>
        </label>
        <div class="filter-row">
          <label>
            Only team <input type="text" name="team" value={form.team} maxlength={256} placeholder="any" />
          </label>
          <label>
            Only project <input type="text" name="project" value={form.project} maxlength={256} placeholder="any" />
          </label>
          <label>
            Only model <input type="text" name="model" value={form.model} maxlength={256} placeholder="any" />
          </label>
        </div>
        <label>
          <input type="checkbox" name="enabled" checked={form.enabled} /> Enabled
        </label>
        <FormError error={error} />
        <button type="submit">{target.submit}</button>
      </form>
    </article>
  );
}

export function ReportsPage(props: ReportsProps) {
  return (
    <>
      <hgroup>
        <h1>Reports</h1>
        <p>Scheduled emails: spend summaries for finance, failed-request digests for on-call. Each period is sent once.</p>
      </hgroup>
      {props.flash ? (
        <p class={`notice ${props.flash.tone}`} role={props.flash.tone === "err" ? "alert" : "status"}>
          {props.flash.text}
        </p>
      ) : null}
      {props.smtpConfigured ? null : (
        <p class="notice">
          SMTP_URL is not set: reports are rendered and kept below, marked “not sent: no SMTP configured”. Set SMTP_URL (smtp:// or smtps://,
          credentials in the URL) and REPORT_FROM to send them.
        </p>
      )}
      <section>
        <h2>Schedules</h2>
        <SchedulesTable schedules={props.schedules} csrfToken={props.csrfToken} />
      </section>
      <section>
        <h2>Recent deliveries</h2>
        <DeliveriesTable deliveries={props.deliveries} />
      </section>
      <ScheduleForm form={props.form} error={props.error} csrfToken={props.csrfToken} />
    </>
  );
}

/** /reports/:id/edit: the add form, filled with the schedule, posting to its own URL. */
export function EditSchedulePage({ id, form, error, csrfToken }: { id: number; form: ReportForm; error: string | null; csrfToken: string }) {
  return (
    <>
      <nav aria-label="breadcrumb">
        <ul>
          <li>
            <a href="/reports">Reports</a>
          </li>
          <li>Edit schedule {id}</li>
        </ul>
      </nav>
      <ScheduleForm
        form={form}
        error={error}
        csrfToken={csrfToken}
        target={{ id: "edit-report", heading: `Edit “${form.name}”`, action: `/reports/${id}/edit`, submit: "Save schedule" }}
      />
      <p>
        <a href={`/reports/${id}/preview`}>Preview its next email</a>
      </p>
    </>
  );
}
