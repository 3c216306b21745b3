import { sql } from "drizzle-orm";
import type { Db } from "../db/open.ts";
import { LEASE_EXPIRY_MS, liveHeldNano } from "./budgets-store.ts";
import type { LeaseGrant, LeaseReport } from "./spend-messages.ts";
import { spentNano } from "./spent-sql.ts";

// The writer thread's side of hard budgets. A serving thread spends a budget only out of room it
// holds; the room is granted here, in one write transaction (immediate: on SQLite one runs at a
// time across every process on the file), only while
//
//     spent in calls + room held by every live process + this grant ≤ amount.
//
// A process's held room is what it was granted minus what it spent that is committed in calls
// (it reports it: its calls then count through "spent in calls" instead), so each nano-dollar
// counts once or, for a moment between a commit and the next report, twice: never zero times.

/**
 * Renew this process's leases (the heartbeat, and `held` as reported) and grant what they want
 * where the budget has room. Budgets deleted or made soft in the meantime grant nothing.
 */
export async function grantLeases(db: Db, instance: string, reports: readonly LeaseReport[], now: number): Promise<LeaseGrant[]> {
  return db.transaction(
    async (tx) => {
      const grants: LeaseGrant[] = [];
      for (const r of reports) {
        // On PostgreSQL the transaction is not exclusive: locking the budget row makes two
        // processes' grants for one budget take turns (SQLite's immediate transaction already does).
        const lock = sql.raw(tx.dialect === "postgres" ? " FOR UPDATE" : "");
        const budget = await tx.get<{ amount_nano: number | string; scope: "key" | "team" | "project"; target: string; hard: number | boolean }>(
          sql`SELECT amount_nano, scope, target, hard FROM budgets WHERE id = ${r.budgetId}${lock}`,
        );
        if (!budget) {
          grants.push({ budgetId: r.budgetId, periodStart: r.periodStart, granted: 0, othersHeld: 0 });
          continue;
        }
        let granted = 0n;
        let others = 0n;
        if (r.want > 0 && budget.hard) {
          const spent = await spentNano(tx, budget.scope, budget.target, r.periodStart, r.periodEnd);
          others = await liveHeldNano(tx, r.budgetId, r.periodStart, now, instance);
          const room = BigInt(budget.amount_nano) - spent - others - BigInt(r.held);
          granted = room <= 0n ? 0n : room < BigInt(r.want) ? room : BigInt(r.want);
        }
        const held = BigInt(r.held) + granted;
        await tx.run(
          sql`INSERT INTO budget_leases (budget_id, instance, period_start, held_nano, heartbeat_at) VALUES (${r.budgetId}, ${instance}, ${r.periodStart}, ${held}, ${now})
              ON CONFLICT (budget_id, instance, period_start) DO UPDATE SET held_nano = excluded.held_nano, heartbeat_at = excluded.heartbeat_at`,
        );
        grants.push({ budgetId: r.budgetId, periodStart: r.periodStart, granted: Number(granted), othersHeld: Number(others) });
      }
      // Leases of processes long gone (and of past periods) only take space.
      await tx.run(sql`DELETE FROM budget_leases WHERE heartbeat_at < ${now - 10 * LEASE_EXPIRY_MS}`);
      return grants;
    },
    { immediate: true },
  );
}
