import { and, asc, desc, eq, isNull, lte, or, sql } from "drizzle-orm";
import type { Db } from "../db/database.ts";
import { alertEvents, alertRules, type AlertEvent, type AlertRule } from "../db/schema.ts";
import type { RuleInput } from "./alert-input.ts";

// Alert rules and their events. An event is claimed by inserting its (rule, subject, seq) row,
// and taken for sending by a conditional update of its lease; both work alike on SQLite and
// PostgreSQL and across processes, without locks held while anything is sent.

const ruleColumns = (r: RuleInput) => ({ kind: r.kind, budgetId: r.budgetId, threshold: r.threshold, windowMinutes: r.windowMinutes, enabled: r.enabled, channels: JSON.stringify(r.channels) });

export async function createAlertRule(db: Db, input: RuleInput, now: number): Promise<AlertRule> {
  const [row] = await db.orm
    .insert(alertRules)
    .values({ ...ruleColumns(input), createdAt: now })
    .returning();
  return row!;
}

export async function updateAlertRule(db: Db, id: number, input: RuleInput): Promise<AlertRule | null> {
  const [row] = await db.orm.update(alertRules).set(ruleColumns(input)).where(eq(alertRules.id, id)).returning();
  return row ?? null;
}

export async function setAlertRuleEnabled(db: Db, id: number, enabled: boolean): Promise<boolean> {
  return (await db.orm.update(alertRules).set({ enabled }).where(eq(alertRules.id, id)).returning({ id: alertRules.id })).length > 0;
}

export async function deleteAlertRule(db: Db, id: number): Promise<boolean> {
  return (await db.orm.delete(alertRules).where(eq(alertRules.id, id)).returning({ id: alertRules.id })).length > 0;
}

export async function listAlertRules(db: Db): Promise<AlertRule[]> {
  return db.orm.select().from(alertRules).orderBy(asc(alertRules.id));
}

export async function getAlertRule(db: Db, id: number): Promise<AlertRule | null> {
  const [row] = await db.orm.select().from(alertRules).where(eq(alertRules.id, id));
  return row ?? null;
}

export async function listAlertEvents(db: Db, ruleId: number, limit = 200): Promise<AlertEvent[]> {
  return db.orm.select().from(alertEvents).where(eq(alertEvents.ruleId, ruleId)).orderBy(desc(alertEvents.id)).limit(limit);
}

/** The newest events of every rule, for the /alerts history. */
export async function listRecentAlertEvents(db: Db, limit: number): Promise<AlertEvent[]> {
  return db.orm.select().from(alertEvents).orderBy(desc(alertEvents.createdAt), desc(alertEvents.id)).limit(limit);
}

export interface LastTransition {
  subject: string;
  seq: number;
  transition: "fired" | "resolved";
  title: string;
}

/** The latest transition of each of a rule's subjects (absent: never fired). */
export async function lastTransitions(db: Db, ruleId: number): Promise<Map<string, LastTransition>> {
  const rows = await db.all<{ subject: string; seq: number | string; transition: "fired" | "resolved"; title: string }>(
    sql`SELECT subject, seq, transition, title FROM alert_events e WHERE rule_id = ${ruleId} AND seq = (SELECT MAX(seq) FROM alert_events WHERE rule_id = e.rule_id AND subject = e.subject)`,
  );
  return new Map(rows.map((r) => [r.subject, { ...r, seq: Number(r.seq) }]));
}

export type NewTransition = Pick<AlertEvent, "ruleId" | "subject" | "seq" | "transition" | "value" | "title" | "body" | "payload">;

/**
 * Claim a transition: true when this caller inserted its row (and so must send it), false when
 * another run did. seq is the subject's last seq + 1, and odd seqs fire while even ones resolve,
 * so two runs that saw the same state compete for the same row and a stale run cannot insert a
 * second firing of one crossing.
 */
export async function claimTransition(db: Db, t: NewTransition, now: number): Promise<boolean> {
  if ((t.seq % 2 === 1) !== (t.transition === "fired")) throw new Error(`alert transition ${t.transition} cannot have seq ${t.seq}`);
  const inserted = await db.orm
    .insert(alertEvents)
    .values({ ...t, status: "pending", nextAttemptAt: now, createdAt: now })
    .onConflictDoNothing()
    .returning({ id: alertEvents.id });
  return inserted.length > 0;
}

/** How long a sender holds an event before another run may take it (a crashed sender's events return). */
const SEND_LEASE_MS = 60_000;

/**
 * Take the pending events that are due. Each is taken by moving its next_attempt_at a lease
 * ahead, conditionally on the value just read: of two processes that read the same row, one
 * update matches and the other changes nothing and skips the event.
 */
export async function takeDueEvents(db: Db, now: number, limit = 50): Promise<AlertEvent[]> {
  const due = await db.orm
    .select()
    .from(alertEvents)
    .where(and(eq(alertEvents.status, "pending"), or(isNull(alertEvents.nextAttemptAt), lte(alertEvents.nextAttemptAt, now))))
    .orderBy(asc(alertEvents.id))
    .limit(limit);
  const taken: AlertEvent[] = [];
  for (const e of due) {
    const was = e.nextAttemptAt === null ? isNull(alertEvents.nextAttemptAt) : eq(alertEvents.nextAttemptAt, e.nextAttemptAt);
    const won = await db.orm
      .update(alertEvents)
      .set({ nextAttemptAt: now + SEND_LEASE_MS })
      .where(and(eq(alertEvents.id, e.id), eq(alertEvents.status, "pending"), was))
      .returning({ id: alertEvents.id });
    if (won.length > 0) taken.push(e);
  }
  return taken;
}

/** Channels that have the event so far (indexes into the rule's channels). */
export function sentChannels(e: AlertEvent): number[] {
  return JSON.parse(e.sentChannels) as number[];
}

export async function markSent(db: Db, id: number, channels: number[], now: number): Promise<void> {
  await db.orm.update(alertEvents).set({ status: "sent", sentAt: now, nextAttemptAt: null, lastError: null, sentChannels: JSON.stringify(channels) }).where(eq(alertEvents.id, id));
}

/** A failed attempt: retried with exponential backoff (30 s, 1 min, 2 min, …), given up after 8. */
export async function markFailed(db: Db, e: AlertEvent, channels: number[], error: string, now: number): Promise<void> {
  const attempts = e.attempts + 1;
  const giveUp = attempts >= 8;
  await db.orm
    .update(alertEvents)
    .set({
      attempts,
      lastError: error.slice(0, 500),
      sentChannels: JSON.stringify(channels),
      status: giveUp ? "failed" : "pending",
      nextAttemptAt: giveUp ? null : now + 30_000 * 2 ** (attempts - 1),
    })
    .where(eq(alertEvents.id, e.id));
}
