import { and, asc, desc, eq, isNull, lte, or } from "drizzle-orm";
import type { Db } from "../db/open.ts";
import { alertEvents, alertRules, type AlertEvent, type AlertRule } from "../db/schema.ts";
import type { Channel } from "./alert-input.ts";

export async function createAlertRule(db: Db, input: { budgetId: number | null; channels: Channel[] }, now: number): Promise<AlertRule> {
  const [row] = await db.orm.insert(alertRules).values({ kind: "budget_threshold", budgetId: input.budgetId, channels: JSON.stringify(input.channels), createdAt: now }).returning();
  return row!;
}

export async function listAlertRules(db: Db): Promise<AlertRule[]> {
  return db.orm.select().from(alertRules).orderBy(asc(alertRules.id));
}

export async function getAlertRule(db: Db, id: number): Promise<AlertRule | null> {
  const [row] = await db.orm.select().from(alertRules).where(eq(alertRules.id, id));
  return row ?? null;
}

export async function listAlertEvents(db: Db, ruleId: number): Promise<AlertEvent[]> {
  return db.orm.select().from(alertEvents).where(eq(alertEvents.ruleId, ruleId)).orderBy(desc(alertEvents.id)).limit(200);
}

/** Claim a crossing: true when this caller inserted it (and so must send it), false when it exists. */
export async function claimCrossing(db: Db, e: Pick<AlertEvent, "ruleId" | "budgetId" | "periodStart" | "threshold" | "spentNano">, now: number): Promise<boolean> {
  const inserted = await db.orm
    .insert(alertEvents)
    .values({ ...e, status: "pending", nextAttemptAt: now, createdAt: now })
    .onConflictDoNothing()
    .returning({ id: alertEvents.id });
  return inserted.length > 0;
}

/**
 * Take the pending events that are due: each is moved a minute ahead first (its lease), so an
 * overlapping run or another process skips it while this one sends.
 */
export async function takeDueEvents(db: Db, now: number, limit = 50): Promise<AlertEvent[]> {
  return db.transaction(async (tx) => {
    const due = await tx.orm
      .select()
      .from(alertEvents)
      .where(and(eq(alertEvents.status, "pending"), or(isNull(alertEvents.nextAttemptAt), lte(alertEvents.nextAttemptAt, now))))
      .limit(limit);
    for (const e of due) await tx.orm.update(alertEvents).set({ nextAttemptAt: now + 60_000 }).where(eq(alertEvents.id, e.id));
    return due;
  }, { immediate: true });
}

export async function markSent(db: Db, id: number, now: number): Promise<void> {
  await db.orm.update(alertEvents).set({ status: "sent", sentAt: now, nextAttemptAt: null, lastError: null }).where(eq(alertEvents.id, id));
}

/** A failed attempt: retried with exponential backoff (30 s, 1 min, 2 min, …), given up after 8. */
export async function markFailed(db: Db, e: AlertEvent, error: string, now: number): Promise<void> {
  const attempts = e.attempts + 1;
  const giveUp = attempts >= 8;
  await db.orm
    .update(alertEvents)
    .set({ attempts, lastError: error.slice(0, 500), status: giveUp ? "failed" : "pending", nextAttemptAt: giveUp ? null : now + 30_000 * 2 ** (attempts - 1) })
    .where(eq(alertEvents.id, e.id));
}
