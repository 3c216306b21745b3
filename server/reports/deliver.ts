import type { Config } from "../config.ts";
import type { Db } from "../db/database.ts";
import type { ReportDelivery, ReportSchedule } from "../db/schema.ts";
import type { Logger } from "../log.ts";
import {
  MAX_ATTEMPTS,
  NOT_SENT_NO_SMTP,
  backoffMs,
  claimKept,
  claimManual,
  finishAttempt,
  getDelivery,
  type Claim,
  type Outcome,
} from "./deliveries-store.ts";
import { createMailer, fromDomain, type Mailer } from "./mailer.ts";
import { renderReport, type ReportEmail } from "./render-report.tsx";
import type { ReportRange } from "./schedule.ts";
import { recipientsOf } from "./schedules-store.ts";

// One delivery attempt: the row is already claimed (deliveries-store.ts), so whatever happens
// here, no other runner is sending the same email. Render, send, write the outcome.

export interface DeliveryDeps {
  db: Db;
  log: Logger;
  /** null when SMTP_URL is not set: reports are rendered and kept, marked not sent. */
  mailer: Mailer | null;
  from: string;
  publicUrl: string | undefined;
}

export interface DeliveryJob {
  schedule: ReportSchedule;
  claim: Claim;
  range: ReportRange;
  trigger: ReportDelivery["trigger"];
}

/** SMTP replies can be long and multi-line; keep the status line and a bit of context. */
function errorText(err: unknown): string {
  const message = err instanceof Error ? err.message : String(err);
  return message.replace(/\s+/g, " ").slice(0, 500);
}

export async function deliverClaim(deps: DeliveryDeps, job: DeliveryJob, now: number): Promise<Outcome> {
  const { schedule, claim, range, trigger } = job;
  // Scheduled deliveries retry with backoff; a manual send reports its failure to the caller.
  const retryAt = trigger === "schedule" && claim.attempts < MAX_ATTEMPTS ? now + backoffMs(claim.attempts) : null;
  let email: ReportEmail | null = null;
  let outcome: Outcome;
  try {
    email = await renderReport(deps.db, schedule, range, deps.publicUrl);
    if (!deps.mailer) {
      outcome = { status: "not_sent", error: NOT_SENT_NO_SMTP };
    } else {
      await deps.mailer.send({
        to: recipientsOf(schedule),
        subject: email.subject,
        html: email.html,
        text: email.text,
        csv: { content: email.csv, filename: email.csvFilename },
        messageId: `<tollbooth.report.${claim.id}@${fromDomain(deps.from)}>`,
      });
      outcome = { status: "sent" };
    }
  } catch (err) {
    outcome = { status: "failed", error: `${email ? "send" : "render"} failed: ${errorText(err)}`, retryAt };
  }
  const label = `report "${schedule.name}" (schedule ${schedule.id}, delivery ${claim.id}, attempt ${claim.attempts})`;
  if (!(await finishAttempt(deps.db, claim, outcome, email, now))) {
    deps.log.warn(`reports: ${label}: lost the claim before finishing (lease expired and another runner took over)`);
  } else if (outcome.status === "failed") {
    const next = outcome.retryAt === null ? "giving up" : `retry at ${new Date(outcome.retryAt).toISOString()}`;
    deps.log.warn(`reports: ${label}: ${outcome.error}; ${next}`);
  } else {
    deps.log.info(`reports: ${label}: ${outcome.status === "sent" ? "sent" : NOT_SENT_NO_SMTP}`);
  }
  return outcome;
}

/**
 * "Send now" (POST /api/reports/:id/send, the /reports page): a new manual row, delivered right
 * away over its own SMTP connection.
 */
export async function sendNow(
  base: { db: Db; log: Logger; config: Pick<Config, "SMTP_URL" | "REPORT_FROM" | "PUBLIC_URL"> },
  schedule: ReportSchedule,
  range: ReportRange,
  now: number,
): Promise<ReportDelivery> {
  const { db, log, config } = base;
  const mailer = config.SMTP_URL ? createMailer(config.SMTP_URL, config.REPORT_FROM) : null;
  try {
    const claim = await claimManual(db, schedule.id, range, now);
    await deliverClaim({ db, log, mailer, from: config.REPORT_FROM, publicUrl: config.PUBLIC_URL }, { schedule, claim, range, trigger: "manual" }, now);
    return (await getDelivery(db, claim.id))!;
  } finally {
    mailer?.close();
  }
}

/**
 * "Send" on a delivery kept unsent (the /reports page, once SMTP_URL is set): the same row is
 * claimed, rendered again (so late calls and re-pricing since are included) and sent. Null when
 * the row is no longer kept unsent (already sent by another click, or never was).
 */
export async function sendKept(
  base: { db: Db; log: Logger; config: Pick<Config, "SMTP_URL" | "REPORT_FROM" | "PUBLIC_URL"> },
  schedule: ReportSchedule,
  kept: ReportDelivery,
  now: number,
): Promise<ReportDelivery | null> {
  const { db, log, config } = base;
  if (!config.SMTP_URL) return null;
  const mailer = createMailer(config.SMTP_URL, config.REPORT_FROM);
  try {
    const claim = await claimKept(db, kept.id, now);
    if (!claim) return null;
    const range = { start: kept.periodStart, end: kept.periodEnd };
    await deliverClaim({ db, log, mailer, from: config.REPORT_FROM, publicUrl: config.PUBLIC_URL }, { schedule, claim, range, trigger: kept.trigger }, now);
    return (await getDelivery(db, claim.id))!;
  } finally {
    mailer.close();
  }
}
