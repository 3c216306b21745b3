import { asc, eq, sql } from "drizzle-orm";
import type { Db } from "../db/open.ts";
import { budgets, type Budget } from "../db/schema.ts";
import { prorate } from "../money.ts";
import { bumpControlVersion } from "./control-version.ts";
import { periodBounds } from "./budget-period.ts";
import type { BudgetRule } from "./spend-messages.ts";
import { spentNano } from "./spent-sql.ts";

// Budgets: CRUD, and where each stands in its current period. Every change bumps the
// spend-control version so the serving threads of every instance enforce it within a poll.

export type NewBudget = Pick<Budget, "scope" | "target" | "amountNano" | "period" | "timezone" | "hard"> & { softThresholds: number[] };
export type BudgetPatch = Partial<NewBudget>;

/** A lease counts while its process renews it; this long after the last renewal its room returns. */
export const LEASE_EXPIRY_MS = 30_000;

export interface BudgetStanding {
  budget: Budget;
  periodStart: number;
  periodEnd: number;
  spentNano: bigint;
  /** Room held by live tollbooth processes for calls in flight or about to be. */
  reservedNano: bigint;
  remainingNano: bigint;
  /** Spend so far extended linearly to the end of the period. */
  projectedNano: bigint;
}

export async function createBudget(db: Db, input: NewBudget, now: number): Promise<Budget> {
  const [row] = await db.orm
    .insert(budgets)
    .values({ ...input, softThresholds: JSON.stringify(input.softThresholds), createdAt: now, updatedAt: now })
    .returning();
  await bumpControlVersion(db);
  return row!;
}

export async function listBudgets(db: Db): Promise<Budget[]> {
  return db.orm.select().from(budgets).orderBy(asc(budgets.id));
}

export async function getBudget(db: Db, id: number): Promise<Budget | null> {
  const [row] = await db.orm.select().from(budgets).where(eq(budgets.id, id));
  return row ?? null;
}

export async function updateBudget(db: Db, id: number, patch: BudgetPatch, now: number): Promise<Budget | null> {
  const { softThresholds, ...rest } = patch;
  const [row] = await db.orm
    .update(budgets)
    .set({ ...rest, ...(softThresholds ? { softThresholds: JSON.stringify(softThresholds) } : {}), updatedAt: now })
    .where(eq(budgets.id, id))
    .returning();
  if (row) await bumpControlVersion(db);
  return row ?? null;
}

export async function deleteBudget(db: Db, id: number): Promise<boolean> {
  const deleted = (await db.orm.delete(budgets).where(eq(budgets.id, id)).returning({ id: budgets.id })).length > 0;
  if (deleted) await bumpControlVersion(db);
  return deleted;
}

/** Spent, held and projected for the period containing `now`, read in one snapshot. */
export async function budgetStanding(db: Db, budget: Budget, now: number): Promise<BudgetStanding> {
  const { start, end } = periodBounds(budget.period, budget.timezone, now);
  // snapshot: on PostgreSQL both statements read one REPEATABLE READ snapshot; in its default
  // READ COMMITTED each took its own, so a call could be counted in neither (a lease released
  // and its call committed between the two) and the figure dips for a moment.
  const { spent, held } = await db.transaction(
    async (tx) => ({
      spent: await spentNano(tx, budget.scope, budget.target, start, end),
      held: await liveHeldNano(tx, budget.id, start, now),
    }),
    { snapshot: true },
  );
  const amount = BigInt(budget.amountNano);
  const remaining = amount - spent - held;
  const elapsed = BigInt(Math.max(1, Math.min(now, end) - start));
  return {
    budget,
    periodStart: start,
    periodEnd: end,
    spentNano: spent,
    reservedNano: held,
    remainingNano: remaining > 0n ? remaining : 0n,
    projectedNano: prorate(spent, BigInt(end - start), elapsed),
  };
}

/** Room held by live leases (heartbeat within LEASE_EXPIRY_MS) of the period, other than `except`'s. */
export async function liveHeldNano(db: Db, budgetId: number, periodStart: number, now: number, except?: string): Promise<bigint> {
  // As text: a number would lose nano-dollars past 2^53.
  const row = await db.get<{ held: string | null }>(
    sql`SELECT CAST(COALESCE(SUM(held_nano), 0) AS TEXT) AS held FROM budget_leases WHERE budget_id = ${budgetId} AND period_start = ${periodStart} AND heartbeat_at > ${now - LEASE_EXPIRY_MS} AND instance != ${except ?? ""}`,
  );
  return BigInt(row?.held ?? "0");
}

export function soft(budget: Budget): number[] {
  return JSON.parse(budget.softThresholds) as number[];
}

/** The budgets the serving threads enforce per call: the hard ones. */
export async function loadBudgetRules(db: Db): Promise<BudgetRule[]> {
  return (await listBudgets(db))
    .filter((b) => b.hard)
    .map((b) => ({ id: b.id, scope: b.scope, target: b.target, amountNano: b.amountNano, period: b.period, timezone: b.timezone, hard: b.hard }));
}
