
import { and, desc, eq, lt } from "drizzle-orm";
import { z } from "zod";
import type { Db } from "../db/open.ts";
import { reportDeliveries, type ReportDelivery } from "../db/schema.ts";
import { toIso } from "../time.ts";
import type { ReportRange } from "./schedule.ts";

// report_deliveries: the claim protocol that makes every scheduled (schedule, period) go out
// once. Every state change is one conditional statement, so two runners (two processes on one
// file, or an overlapping tick) can race freely: exactly one of them sees `changes === 1`.
// PostgreSQL twins: ON CONFLICT (schedule_id, period_start) WHERE trigger = 'schedule' DO NOTHING,
// and the same conditional UPDATEs.

/**
 * A runner owns a claimed row until its lease ends (stored in next_attempt_at). Rendering and one
 * SMTP conversation fit easily (the mailer's socket timeout is 60 s); a runner that died leaves
 * a claim that the retry scan takes over once the lease has run out.
 */
export const LEASE_MS = 10 * 60_000;
export const MAX_ATTEMPTS = 5;
/** Retry n (n ≥ 1) waits BACKOFF_BASE_MS × 2^(n−1): 5, 10, 20, 40 minutes, 75 in all. */
export const BACKOFF_BASE_MS = 5 * 60_000;
export const NOT_SENT_NO_SMTP = "not sent: no SMTP configured";
const INTERRUPTED = "interrupted: the runner stopped during delivery (it may or may not have been sent); retried";

export function backoffMs(attempts: number): number {
  return BACKOFF_BASE_MS * 2 ** (attempts - 1);
}

/** A claim held by this runner: the row id and the attempt number it owns. */
export interface Claim {
  id: number;
  attempts: number;
}

const INSERT = `INSERT INTO report_deliveries
  (schedule_id, "trigger", period_start, period_end, status, attempts, next_attempt_at, last_error, created_at)
  VALUES (:scheduleId, :trigger, :start, :end, :status, :attempts, :nextAttemptAt, :lastError, :now)`;

/** Claim a scheduled period; null when another runner (or an earlier tick) already has it. */
export function claimPeriod(db: Db, scheduleId: number, range: ReportRange, now: number): Claim | null {
  const client = db.$client;
  const row = client
    .prepare(`${INSERT} ON CONFLICT DO NOTHING RETURNING id`)
    .get({ scheduleId, trigger: "schedule", ...range, status: "claimed", attempts: 1, nextAttemptAt: now + LEASE_MS, lastError: null, now }) as
    | { id: number }
    | undefined;
  return row ? { id: row.id, attempts: 1 } : null;
}

/** Record a missed period beyond the catch-up window; true the first time only (log it once). */
export function recordSkipped(db: Db, scheduleId: number, range: ReportRange, now: number, reason: string): boolean {
  const client = db.$client;
  const params = { scheduleId, trigger: "schedule", ...range, status: "skipped", attempts: 0, nextAttemptAt: null, lastError: reason, now };
  return client.prepare(`${INSERT} ON CONFLICT DO NOTHING`).run(params).changes === 1;
}

/** A manual send (POST /api/reports/:id/send) is its own row, outside the once-per-period key. */
export function claimManual(db: Db, scheduleId: number, range: ReportRange, now: number): Claim {
  const client = db.$client;
  const params = { scheduleId, trigger: "manual", ...range, status: "claimed", attempts: 1, nextAttemptAt: now + LEASE_MS, lastError: null, now };
  const { id } = client.prepare(`${INSERT} RETURNING id`).get(params) as { id: number };
  return { id, attempts: 1 };
}

/**
 * Failed rows due for a retry and claims whose lease ran out, oldest first. Rows of a disabled
 * schedule wait: switching a schedule off stops its retries too.
 */
export function dueForRetry(db: Db, now: number, limit: number): Claim[] {
  const client = db.$client;
  return client
    .prepare(
      `SELECT id, attempts FROM report_deliveries
       WHERE status IN ('claimed', 'failed') AND next_attempt_at <= ?
         AND schedule_id IN (SELECT id FROM report_schedules WHERE enabled = 1)
       ORDER BY next_attempt_at, id LIMIT ?`,
    )
    .all(now, limit) as Claim[];
}

/**
 * Take over a row seen by dueForRetry. The WHERE repeats what the runner saw (still due, same
 * attempt count), so of two runners that saw the same row only the first update matches.
 */
export function reclaim(db: Db, seen: Claim, now: number): Claim | null {
  const client = db.$client;
  const changes = client
    .prepare(
      `UPDATE report_deliveries
       SET last_error = CASE WHEN status = 'claimed' THEN :interrupted ELSE last_error END,
           status = 'claimed', attempts = attempts + 1, next_attempt_at = :lease
       WHERE id = :id AND status IN ('claimed', 'failed') AND next_attempt_at <= :now AND attempts = :attempts`,
    )
    .run({ id: seen.id, attempts: seen.attempts, now, lease: now + LEASE_MS, interrupted: INTERRUPTED }).changes;
  return changes === 1 ? { id: seen.id, attempts: seen.attempts + 1 } : null;
}

export interface RenderedReport {
  subject: string;
  html: string;
  text: string;
  csv: string;
}

export type Outcome =
  | { status: "sent" }
  | { status: "not_sent"; error: string }
  | { status: "failed"; error: string; retryAt: number | null };

/**
 * Write the outcome of an attempt, only if this runner still owns it (same attempt, still
 * claimed): a runner whose lease ran out must not overwrite the one that took over.
 */
export function finishAttempt(db: Db, claim: Claim, outcome: Outcome, rendered: RenderedReport | null, now: number): boolean {
  const client = db.$client;
  const error = outcome.status === "sent" ? null : outcome.error;
  return (
    client
      .prepare(
        `UPDATE report_deliveries
         SET status = :status, last_error = COALESCE(:error, last_error), next_attempt_at = :next,
             sent_at = CASE WHEN :status = 'sent' THEN :now ELSE sent_at END,
             subject = COALESCE(:subject, subject), html = COALESCE(:html, html), text = COALESCE(:text, text), csv = COALESCE(:csv, csv)
         WHERE id = :id AND status = 'claimed' AND attempts = :attempts`,
      )
      .run({
        id: claim.id,
        attempts: claim.attempts,
        status: outcome.status,
        error,
        next: outcome.status === "failed" ? outcome.retryAt : null,
        now,
        subject: rendered?.subject ?? null,
        html: rendered?.html ?? null,
        text: rendered?.text ?? null,
        csv: rendered?.csv ?? null,
      }).changes === 1
  );
}

export function getDelivery(db: Db, id: number): ReportDelivery | undefined {
  return db.select().from(reportDeliveries).where(eq(reportDeliveries.id, id)).get();
}

/** A schedule's deliveries, newest first, keyset-paged by id. */
export function listDeliveries(db: Db, scheduleId: number, opts: { limit: number; before?: number }): ReportDelivery[] {
  return db
    .select()
    .from(reportDeliveries)
    .where(and(eq(reportDeliveries.scheduleId, scheduleId), opts.before !== undefined ? lt(reportDeliveries.id, opts.before) : undefined))
    .orderBy(desc(reportDeliveries.id))
    .limit(opts.limit)
    .all();
}

/** The latest deliveries of every schedule, newest first (the /reports page). */
export function listRecentDeliveries(db: Db, limit: number): ReportDelivery[] {
  return db.select().from(reportDeliveries).orderBy(desc(reportDeliveries.id)).limit(limit).all();
}

/** Scheduled period starts of a schedule from `since` on (which periods already have a row). */
export function claimedPeriodStarts(db: Db, scheduleId: number, since: number): Set<number> {
  const client = db.$client;
  const starts = client
    .prepare(`SELECT period_start FROM report_deliveries WHERE schedule_id = ? AND "trigger" = 'schedule' AND period_start >= ?`)
    .pluck()
    .all(scheduleId, since) as number[];
  return new Set(starts);
}

export const deliveryJsonSchema = z.object({
  id: z.number().int(),
  schedule_id: z.number().int(),
  trigger: z.enum(["schedule", "manual"]),
  period_start: z.string(),
  period_end: z.string(),
  status: z.enum(["claimed", "sent", "failed", "not_sent", "skipped"]),
  attempts: z.number().int(),
  next_attempt_at: z.string().nullable().meta({ description: "For a claimed row the end of its lease; for a failed one the next retry" }),
  last_error: z.string().nullable(),
  sent_at: z.string().nullable(),
  subject: z.string().nullable(),
  created_at: z.string(),
});

export function deliveryJson(d: ReportDelivery): z.infer<typeof deliveryJsonSchema> {
  return {
    id: d.id,
    schedule_id: d.scheduleId,
    trigger: d.trigger,
    period_start: toIso(d.periodStart),
    period_end: toIso(d.periodEnd),
    status: d.status,
    attempts: d.attempts,
    // For a claimed row this is the end of its lease; for a failed one, the next retry.
    next_attempt_at: d.nextAttemptAt === null ? null : toIso(d.nextAttemptAt),
    last_error: d.lastError,
    sent_at: d.sentAt === null ? null : toIso(d.sentAt),
    subject: d.subject,
    created_at: toIso(d.createdAt),
  };
}
