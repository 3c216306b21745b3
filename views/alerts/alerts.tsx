import type { AlertEvent, AlertRule, Budget } from "../../server/db/schema.ts";
import type { Channel } from "../../server/alerts/alert-input.ts";
import type { TestSendResult } from "../../server/alerts/test-send.ts";
import { formatThreshold } from "../../server/alerts/thresholds.ts";
import { CSRF_FIELD } from "../../server/sessions/csrf.ts";
import { FormError, Time } from "../components/bits.tsx";

/** The rule form's fields, as typed (strings), so a refused form comes back as it was. */
export interface AlertForm {
  kind: string;
  budget_id: string;
  threshold: string;
  window_minutes: string;
  emails: string;
  webhook_url: string;
  webhook_secret: string;
  webhook_format: string;
  enabled: boolean;
}

interface RuleRow {
  rule: AlertRule;
  channels: Channel[];
  /** Subjects whose last transition fired. */
  firing: string[];
}

export interface AlertsProps {
  rules: RuleRow[];
  history: AlertEvent[];
  budgets: Budget[];
  form: AlertForm;
  /** The rule the form edits, or null for a new one. */
  editing: number | null;
  error: string | null;
  tests: { ruleId: number; results: TestSendResult[] } | null;
  smtpConfigured: boolean;
  csrfToken: string;
}

const KIND_LABELS: Record<AlertRule["kind"], string> = {
  budget_threshold: "Budget threshold",
  budget_projection: "Budget projection",
  error_rate: "Error rate",
  latency_p95: "p95 latency",
  spend_anomaly: "Spend anomaly",
};

const iso = (ms: number) => new Date(ms).toISOString();

function budgetName(budgets: Budget[], id: number | null): string {
  if (id === null) return "every budget";
  const b = budgets.find((x) => x.id === id);
  return b ? `${b.scope} ${b.target} (${b.period})` : `budget #${id}`;
}

/** One line saying what the rule watches. */
function describeRule(rule: AlertRule, budgets: Budget[]): string {
  const limit = formatThreshold(rule.kind, rule.threshold);
  switch (rule.kind) {
    case "budget_threshold":
      return `${budgetName(budgets, rule.budgetId)} passes one of its soft thresholds`;
    case "budget_projection":
      return `${budgetName(budgets, rule.budgetId)} is projected past ${limit} of its amount by the period's end`;
    case "error_rate":
      return `more than ${limit} of calls fail in ${rule.windowMinutes} min`;
    case "latency_p95":
      return `p95 of successful calls over ${limit} in ${rule.windowMinutes} min`;
    case "spend_anomaly":
      return `the last hour's spend over ${limit} the usual for that hour of the week`;
  }
}

function channelLabel(c: Channel): string {
  return c.type === "email" ? `Email ${c.to.join(", ")}` : `Webhook ${c.url}${c.format === "slack" ? " (Slack)" : ""}`;
}

function Hidden({ csrfToken }: { csrfToken: string }) {
  return <input type="hidden" name={CSRF_FIELD} value={csrfToken} />;
}

function RuleCard({ row, budgets, tests, csrfToken }: { row: RuleRow; budgets: Budget[]; tests: AlertsProps["tests"]; csrfToken: string }) {
  const { rule } = row;
  const results = tests?.ruleId === rule.id ? tests.results : [];
  return (
    <article class={`alert-rule${rule.enabled ? "" : " disabled"}`} id={`rule-${rule.id}`}>
      <header>
        <h3>
          {KIND_LABELS[rule.kind]} <small class="muted">#{rule.id}</small>{" "}
          {!rule.enabled ? <span class="badge">disabled</span> : row.firing.length > 0 ? <span class="badge err">firing ({row.firing.length})</span> : <span class="badge ok">quiet</span>}
        </h3>
        <p class="muted">Fires when {describeRule(rule, budgets)}.</p>
      </header>
      <ul class="alert-channels">
        {row.channels.map((c, i) => {
          const result = results.find((r) => r.channel === i);
          return (
            <li>
              <span class="channel">{channelLabel(c)}</span>
              <form method="post" action={`/alerts/${rule.id}/test`}>
                <Hidden csrfToken={csrfToken} />
                <input type="hidden" name="channel" value={String(i)} />
                <button type="submit" class="outline secondary">
                  Send a test
                </button>
              </form>
              {result ? (
                <p class={`notice ${result.ok ? "ok" : "err"}`} role={result.ok ? "status" : "alert"}>
                  Test {result.ok ? "sent" : "failed"}: {result.detail}.
                </p>
              ) : null}
            </li>
          );
        })}
      </ul>
      <div class="alert-actions">
        <form method="get" action="/alerts#rule-form">
          <input type="hidden" name="edit" value={String(rule.id)} />
          <button type="submit" class="outline secondary">
            Edit
          </button>
        </form>
        <form method="post" action={`/alerts/${rule.id}/${rule.enabled ? "disable" : "enable"}`}>
          <Hidden csrfToken={csrfToken} />
          <button type="submit" class="outline secondary">
            {rule.enabled ? "Disable" : "Enable"}
          </button>
        </form>
        <form method="post" action={`/alerts/${rule.id}/delete`}>
          <Hidden csrfToken={csrfToken} />
          <button type="submit" class="outline secondary">
            Delete
          </button>
        </form>
      </div>
    </article>
  );
}

function History({ events, rules }: { events: AlertEvent[]; rules: RuleRow[] }) {
  if (events.length === 0) return <p class="empty">Nothing has fired yet.</p>;
  const kindOf = new Map(rules.map((r) => [r.rule.id, KIND_LABELS[r.rule.kind]]));
  return (
    <div class="table-scroll">
      <table class="striped alert-history">
        <thead>
          <tr>
            <th>Time</th>
            <th>Rule</th>
            <th>Event</th>
            <th>Value</th>
            <th>Delivery</th>
          </tr>
        </thead>
        <tbody>
          {events.map((e) => (
            <tr>
              <td>
                <Time iso={iso(e.createdAt)} short />
              </td>
              <td>
                {kindOf.get(e.ruleId) ?? "rule"} #{e.ruleId}
                <br />
                <small class="muted">{e.title.replace(/^tollbooth: /, "")}</small>
              </td>
              <td>
                <span class={`badge ${e.transition === "fired" ? "err" : "ok"}`}>{e.transition}</span>
              </td>
              <td>{e.value}</td>
              <td>
                <span class={`badge ${e.status === "sent" ? "ok" : e.status === "failed" ? "err" : "warn"}`}>{e.status}</span>
                {e.sentAt !== null ? (
                  <small class="muted">
                    {" "}
                    <Time iso={iso(e.sentAt)} short />
                  </small>
                ) : null}
                {e.lastError ? (
                  <small class="err-msg" title={e.lastError}>
                    {" "}
                    {e.attempts} failed: {e.lastError}
                  </small>
                ) : null}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

function RuleForm({ form, budgets, editing, error, csrfToken, smtpConfigured }: Pick<AlertsProps, "form" | "budgets" | "editing" | "error" | "csrfToken" | "smtpConfigured">) {
  const kinds = Object.entries(KIND_LABELS) as Array<[AlertRule["kind"], string]>;
  return (
    <article id="rule-form">
      <h2>{editing === null ? "Add a rule" : `Edit rule #${editing}`}</h2>
      <form method="post" action={editing === null ? "/alerts" : `/alerts/${editing}`}>
        <Hidden csrfToken={csrfToken} />
        <div class="alert-fields">
          <label>
            Fires when
            <select name="kind" disabled={editing !== null}>
              {kinds.map(([v, label]) => (
                <option value={v} selected={form.kind === v}>
                  {label}
                </option>
              ))}
            </select>
            {editing !== null ? <input type="hidden" name="kind" value={form.kind} /> : null}
          </label>
          <label>
            Budget <small class="muted">(budget rules)</small>
            <select name="budget_id">
              <option value="" selected={form.budget_id === ""}>
                every budget
              </option>
              {budgets.map((b) => (
                <option value={String(b.id)} selected={form.budget_id === String(b.id)}>
                  {b.scope} {b.target} ({b.period})
                </option>
              ))}
            </select>
          </label>
          <label>
            Threshold
            <input type="text" name="threshold" value={form.threshold} inputmode="decimal" placeholder="5" aria-describedby="threshold-help" />
            <small id="threshold-help">Error rate: % of calls. p95: ms. Anomaly: times usual. Projection: % of budget (default 100). Not for thresholds.</small>
          </label>
          <label>
            Window, minutes <small class="muted">(error rate, p95)</small>
            <input type="text" name="window_minutes" value={form.window_minutes} inputmode="numeric" placeholder="15" />
          </label>
        </div>
        <fieldset>
          <legend>Channels</legend>
          <div class="alert-fields">
            <label>
              Email to
              <input type="text" name="emails" value={form.emails} placeholder="oncall@example.com, finance@example.com" />
              {smtpConfigured ? null : <small>SMTP_URL is not set: email alerts fail until it is.</small>}
            </label>
            <label>
              Webhook URL
              <input type="url" name="webhook_url" value={form.webhook_url} placeholder="https://hooks.example.com/tollbooth" />
            </label>
            <label>
              Webhook secret
              <input type="password" name="webhook_secret" value="" autocomplete="off" placeholder={editing === null ? "at least 16 characters" : "blank: keep the current secret"} />
              <small>Signs each body: x-tollbooth-signature: sha256=HMAC.</small>
            </label>
            <label>
              Webhook body
              <select name="webhook_format">
                <option value="json" selected={form.webhook_format !== "slack"}>
                  JSON event
                </option>
                <option value="slack" selected={form.webhook_format === "slack"}>
                  Slack incoming webhook
                </option>
              </select>
            </label>
          </div>
        </fieldset>
        <label class="checkbox">
          <input type="checkbox" name="enabled" value="on" checked={form.enabled} /> Enabled
        </label>
        <FormError error={error} />
        <button type="submit">{editing === null ? "Add rule" : "Save rule"}</button>
        {editing !== null ? (
          <a href="/alerts" class="secondary cancel">
            Cancel
          </a>
        ) : null}
      </form>
    </article>
  );
}

export function AlertsPage(props: AlertsProps) {
  return (
    <>
      <hgroup>
        <h1>Alerts</h1>
        <p>Rules that tell people when spend, errors or latency cross a line, once when it starts and once when it stops. Checked every 30 seconds (ALERTS_CRON).</p>
      </hgroup>
      {props.rules.length === 0 ? <p class="empty">No alert rules yet.</p> : null}
      <div class="alert-rules">
        {props.rules.map((row) => (
          <RuleCard row={row} budgets={props.budgets} tests={props.tests} csrfToken={props.csrfToken} />
        ))}
      </div>
      <RuleForm {...props} />
      <section>
        <h2>History</h2>
        <History events={props.history} rules={props.rules} />
      </section>
    </>
  );
}
