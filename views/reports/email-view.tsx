import type { ReportDelivery } from "../../server/db/schema.ts";
import { CSRF_FIELD } from "../../server/sessions/csrf.ts";
import { Time } from "../components/bits.tsx";

// One report email on its own page: a preview of the next send (/reports/:id/preview) or a kept
// delivery (/reports/delivery/:id). The email itself is in a sandboxed frame loaded from its own
// URL, whose policy lets its inline styles apply and nothing run; this page's policy stays strict.

export interface EmailViewProps {
  heading: string;
  scheduleName: string;
  period: string;
  subject: string | null;
  recipients: string[];
  /** URL of the email's HTML (framed here, and openable on its own). */
  emailUrl: string | null;
  delivery?: ReportDelivery;
  /** Set when this page may send: the kept delivery is not sent and SMTP_URL is set. */
  send?: { action: string; csrfToken: string; label: string } | null;
  note?: string | null;
  editUrl?: string;
}

export function EmailView(props: EmailViewProps) {
  const d = props.delivery;
  return (
    <>
      <nav aria-label="breadcrumb">
        <ul>
          <li>
            <a href="/reports">Reports</a>
          </li>
          <li>{props.heading}</li>
        </ul>
      </nav>
      <hgroup>
        <h1>{props.subject ?? props.scheduleName}</h1>
        <p>
          {props.heading} of “{props.scheduleName}” · {props.period}
        </p>
      </hgroup>
      <dl class="fields email-meta">
        <dt>To</dt>
        <dd>{props.recipients.join(", ")}</dd>
        {d ? (
          <>
            <dt>Status</dt>
            <dd>
              {d.status.replace("_", " ")}
              {d.lastError ? <span class="muted"> ({d.lastError})</span> : null}
            </dd>
            <dt>{d.sentAt !== null ? "Sent" : "Rendered"}</dt>
            <dd>
              <Time iso={new Date(d.sentAt ?? d.createdAt).toISOString()} />
            </dd>
          </>
        ) : null}
      </dl>
      {props.note ? <p class="notice">{props.note}</p> : null}
      <p class="email-actions">
        {props.send ? (
          <form method="post" action={props.send.action} class="inline">
            <input type="hidden" name={CSRF_FIELD} value={props.send.csrfToken} />
            <button type="submit">{props.send.label}</button>
          </form>
        ) : null}
        {props.editUrl ? (
          // biome-ignore lint/a11y/useSemanticElements: a link drawn as a button by Pico's [role=button]
          <a href={props.editUrl} role="button" class="secondary outline">
            Edit schedule
          </a>
        ) : null}
        {props.emailUrl ? (
          <a href={props.emailUrl} target="_blank" rel="noopener">
            Open the email on its own
          </a>
        ) : null}
      </p>
      {props.emailUrl ? (
        <iframe class="email-frame" sandbox="" src={props.emailUrl} title={`Email: ${props.subject ?? props.scheduleName}`} />
      ) : (
        <p class="empty">No rendered email is kept for this delivery.</p>
      )}
    </>
  );
}
