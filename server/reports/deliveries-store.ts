
import { and, desc, eq, lt, sql, type SQL } from "drizzle-orm";
import { z } from "zod";
import type { Db } from "../db/database.ts";
import { reportDeliveries, reportSchedules, type ReportDelivery } from "../db/schema.ts";
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

interface DeliveryRow {
  scheduleId: number;
  trigger: "schedule" | "manual";
  start: number;
  end: number;
  status: "claimed" | "skipped";
  attempts: number;
  nextAttemptAt: number | null;
  lastError: string | null;
  now: number;
}

function insert(r: DeliveryRow): SQL {
  return sql`INSERT INTO report_deliveries
  (schedule_id, "trigger", period_start, period_end, status, attempts, next_attempt_at, last_error, created_at)
  VALUES (${r.scheduleId}, ${r.trigger}, ${r.start}, ${r.end}, ${r.status}, ${r.attempts}, ${r.nextAttemptAt}, ${r.lastError}, ${r.now})`;
}

/** Claim a scheduled period; null when another runner (or an earlier tick) already has it. */
export async function claimPeriod(db: Db, scheduleId: number, range: ReportRange, now: number): Promise<Claim | null> {
  const row = await db.get<{ id: number }>(
    sql`${insert({ scheduleId, trigger: "schedule", ...range, status: "claimed", attempts: 1, nextAttemptAt: now + LEASE_MS, lastError: null, now })} ON CONFLICT DO NOTHING RETURNING id`,
  );
  return row ? { id: row.id, attempts: 1 } : null;
}

/** Record a missed period beyond the catch-up window; true the first time only (log it once). */
export async function recordSkipped(db: Db, scheduleId: number, range: ReportRange, now: number, reason: string): Promise<boolean> {
  const row: DeliveryRow = { scheduleId, trigger: "schedule", ...range, status: "skipped", attempts: 0, nextAttemptAt: null, lastError: reason, now };
  return (await db.run(sql`${insert(row)} ON CONFLICT DO NOTHING`)).changes === 1;
}

/** A manual send (POST /api/reports/:id/send) is its own row, outside the once-per-period key. */
export async function claimManual(db: Db, scheduleId: number, range: ReportRange, now: number): Promise<Claim> {
  const row: DeliveryRow = { scheduleId, trigger: "manual", ...range, status: "claimed", attempts: 1, nextAttemptAt: now + LEASE_MS, lastError: null, now };
  const { id } = (await db.get<{ id: number }>(sql`${insert(row)} RETURNING id`))!;
  return { id, attempts: 1 };
}

/**
 * Take a delivery kept unsent (rendered while SMTP_URL was not set) to send it now. Conditional
 * like every claim: of two clicks on "Send", only the first finds the row still not_sent.
 */
export async function claimKept(db: Db, id: number, now: number): Promise<Claim | null> {
  const row = await db.get<{ attempts: number }>(
    sql`UPDATE report_deliveries SET status = 'claimed', attempts = attempts + 1, next_attempt_at = ${now + LEASE_MS}, last_error = NULL
       WHERE id = ${id} AND status = 'not_sent' RETURNING attempts`,
  );
  return row ? { id, attempts: row.attempts } : null;
}

/**
 * Failed rows due for a retry and claims whose lease ran out, oldest first. Rows of a disabled
 * schedule wait: switching a schedule off stops its retries too.
 */
export function dueForRetry(db: Db, now: number, limit: number): Promise<Claim[]> {
  return db.all<Claim>(
    sql`SELECT id, attempts FROM report_deliveries
       WHERE status IN ('claimed', 'failed') AND next_attempt_at <= ${now}
         AND schedule_id IN (SELECT id FROM report_schedules WHERE ${eq(reportSchedules.enabled, true)})
       ORDER BY next_attempt_at, id LIMIT ${limit}`,
  );
}

/**
 * Take over a row seen by dueForRetry. The WHERE repeats what the runner saw (still due, same
 * attempt count), so of two runners that saw the same row only the first update matches.
 */
export async function reclaim(db: Db, seen: Claim, now: number): Promise<Claim | null> {
  const { changes } = await db.run(
    sql`UPDATE report_deliveries
       SET last_error = CASE WHEN status = 'claimed' THEN ${INTERRUPTED} ELSE last_error END,
           status = 'claimed', attempts = attempts + 1, next_attempt_at = ${now + LEASE_MS}
       WHERE id = ${seen.id} AND status IN ('claimed', 'failed') AND next_attempt_at <= ${now} AND attempts = ${seen.attempts}`,
  );
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
export async function finishAttempt(db: Db, claim: Claim, outcome: Outcome, rendered: RenderedReport | null, now: number): Promise<boolean> {
  const error = outcome.status === "sent" ? null : outcome.error;
  const next = outcome.status === "failed" ? outcome.retryAt : null;
  // Written out in JS rather than compared in SQL: an untyped parameter in a CASE or COALESCE
  // is an error on PostgreSQL.
  const sentAt = outcome.status === "sent" ? sql`${now}` : sql`sent_at`;
  const keep = (column: string, value: string | null | undefined) => (value == null ? sql.identifier(column) : sql`${value}`);
  const { changes } = await db.run(
    sql`UPDATE report_deliveries
         SET status = ${outcome.status}, last_error = ${error === null ? sql`last_error` : sql`${error}`}, next_attempt_at = ${next},
             sent_at = ${sentAt},
             subject = ${keep("subject", rendered?.subject)}, html = ${keep("html", rendered?.html)}, text = ${keep("text", rendered?.text)}, csv = ${keep("csv", rendered?.csv)}
         WHERE id = ${claim.id} AND status = 'claimed' AND attempts = ${claim.attempts}`,
  );
  return changes === 1;
}

export async function getDelivery(db: Db, id: number): Promise<ReportDelivery | undefined> {
  const [row] = await db.orm.select().from(reportDeliveries).where(eq(reportDeliveries.id, id));
  return row;
}

/** A schedule's deliveries, newest first, keyset-paged by id. */
export function listDeliveries(db: Db, scheduleId: number, opts: { limit: number; before?: number }): Promise<ReportDelivery[]> {
  return db.orm
    .select()
    .from(reportDeliveries)
    .where(and(eq(reportDeliveries.scheduleId, scheduleId), opts.before !== undefined ? lt(reportDeliveries.id, opts.before) : undefined))
    .orderBy(desc(reportDeliveries.id))
    .limit(opts.limit);
}

/** The latest deliveries of every schedule, newest first (the /reports page). */
export function listRecentDeliveries(db: Db, limit: number): Promise<ReportDelivery[]> {
  return db.orm.select().from(reportDeliveries).orderBy(desc(reportDeliveries.id)).limit(limit);
}

/** Scheduled period starts of a schedule from `since` on (which periods already have a row). */
export async function claimedPeriodStarts(db: Db, scheduleId: number, since: number): Promise<Set<number>> {
  const rows = await db.all<{ start: number }>(
    sql`SELECT period_start AS start FROM report_deliveries WHERE schedule_id = ${scheduleId} AND "trigger" = 'schedule' AND period_start >= ${since}`,
  );
  return new Set(rows.map((r) => r.start));
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
