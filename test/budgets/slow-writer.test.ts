import { describe, expect, it } from "vitest";
import { BudgetExceeded, BudgetGate } from "../../server/budgets/budget-gate.ts";
import type { BudgetRule, LeaseReport } from "../../server/budgets/spend-messages.ts";

// The serving thread's budget gate when the writer thread is slow. The writer runs below the
// serving thread's priority, so on a loaded machine its answers, and its news that rows
// committed, can take more than a second. A call the budget has room for must still run: a slow
// writer may delay it, never turn it into a 429. (A sequential test of keys once saw
// [200, 200, 200, 429, 200, 429] under CI load because of this.)

const rule: BudgetRule = { id: 1, scope: "key", target: "k1", amountNano: 3_000, period: "daily", timezone: "UTC", hard: true };
const NOW = Date.parse("2026-11-30T12:00:00Z");

/**
 * A gate and a "database" that grants as lease-grants.ts does: room = amount − spent in committed
 * calls − held by this process (granted − what the gate counts as committed). `spentInDb` is what
 * the calls table holds, which can run ahead of what the gate has been told committed.
 */
function rig(answerAfterMs: number) {
  let gate: BudgetGate;
  let spentInDb = 0;
  let committedSeen = 0;
  let pending: LeaseReport[] | null = null;
  const answer = () => {
    gate.committedUpTo(committedSeen);
    const leases = gate.leaseReports(NOW);
    pending = leases;
    setTimeout(() => {
      const grants = leases.map((l) => {
        const room = rule.amountNano - spentInDb - l.held;
        return { budgetId: l.budgetId, periodStart: l.periodStart, granted: Math.max(0, Math.min(l.want, room)), othersHeld: 0 };
      });
      pending = null;
      gate.applyGrants(grants, leases);
      // As the spend gate does: a question asked while this one was out goes next.
      setImmediate(() => {
        if (gate.wantsReport && !pending) answer();
      });
    }, answerAfterMs);
  };
  gate = new BudgetGate(() => {
    if (!pending) queueMicrotask(answer);
  });
  gate.replaceRules([rule]);
  return {
    gate,
    /** A call of `cost` settled as row `seq`, and committed to the database (not yet told). */
    settleCommitted(reservation: { settle(cost: number, seq: number): void }, cost: number, seq: number) {
      reservation.settle(cost, seq);
      spentInDb += cost;
    },
    /** The writer's "committed" news reaching the serving thread. */
    tellCommitted(upTo: number) {
      committedSeen = upTo;
    },
    /** The serving thread's heartbeat report (it hands back room no call waits for), answered. */
    async heartbeat() {
      answer();
      await new Promise((r) => setTimeout(r, answerAfterMs + 5));
    },
  };
}

describe("the budget gate with a slow writer", () => {
  it("a call waits for a writer that answers after more than a second, and runs", async () => {
    const { gate } = rig(1_300);
    const result = await gate.reserve([rule], 1_560, NOW);
    expect(result).not.toBeInstanceOf(BudgetExceeded);
  });

  it("a call is not refused because the database counts a committed call the gate has not heard of yet", async () => {
    const { gate, settleCommitted, tellCommitted, heartbeat } = rig(5);
    // Three calls of 390 (each reserving 1,560): room for a fourth, as 3,000 − 1,170 ≥ 1,560.
    for (let seq = 1; seq <= 3; seq++) {
      const r = await gate.reserve([rule], 1_560, NOW);
      if (r instanceof BudgetExceeded) throw new Error(`call ${seq} refused: ${r.message}`);
      settleCommitted(r, 390, seq);
      if (seq < 3) tellCommitted(seq);
      // Between calls the heartbeat hands back all room but one chunk, so each call asks again.
      await heartbeat();
    }
    // The third row committed, but the news reaches the gate only after 1.2 s: until then the
    // database counts its 390 both as spent and as held by this process, and answers short.
    setTimeout(() => tellCommitted(3), 1_200);
    const fourth = await gate.reserve([rule], 1_560, NOW);
    expect(fourth).not.toBeInstanceOf(BudgetExceeded);
  });

  it("a budget that is really used up is still refused at once", async () => {
    const { gate, settleCommitted, tellCommitted } = rig(5);
    const r = await gate.reserve([rule], 3_000, NOW);
    if (r instanceof BudgetExceeded) throw new Error(r.message);
    settleCommitted(r, 3_000, 1);
    tellCommitted(1);
    const t0 = performance.now();
    const refused = await gate.reserve([rule], 1, NOW);
    expect(refused).toBeInstanceOf(BudgetExceeded);
    expect(performance.now() - t0).toBeLessThan(500);
  });
});
