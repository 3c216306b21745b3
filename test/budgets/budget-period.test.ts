import { describe, expect, it } from "vitest";
import { BudgetGate, BudgetExceeded } from "../../server/budgets/budget-gate.ts";
import { periodBounds } from "../../server/budgets/budget-period.ts";
import type { BudgetRule, LeaseReport } from "../../server/budgets/spend-messages.ts";

// Budget periods follow the zone's calendar, DST included, and the serving thread's room starts
// afresh at a period boundary, also when the boundary falls on a DST change.

const at = (iso: string) => Date.parse(iso);

describe("budget periods", () => {
  it("a London day is 23 hours on the spring-forward Sunday and 25 on the fall-back one", () => {
    const spring = periodBounds("daily", "Europe/London", at("2026-03-29T12:00:00Z"));
    expect(spring).toEqual({ start: at("2026-03-29T00:00:00Z"), end: at("2026-03-29T23:00:00Z") });
    const fall = periodBounds("daily", "Europe/London", at("2026-10-25T12:00:00Z"));
    expect(fall).toEqual({ start: at("2026-10-24T23:00:00Z"), end: at("2026-10-26T00:00:00Z") });
  });

  it("weeks start on Monday and months on the 1st, in the budget's zone", () => {
    expect(periodBounds("weekly", "America/New_York", at("2026-11-04T03:00:00Z"))).toEqual({ start: at("2026-11-02T05:00:00Z"), end: at("2026-11-09T05:00:00Z") });
    expect(periodBounds("monthly", "Asia/Kathmandu", at("2026-02-28T20:00:00Z"))).toEqual({ start: at("2026-02-28T18:15:00Z"), end: at("2026-03-31T18:15:00Z") });
  });
});

describe("the serving thread's budget room across a period boundary on a DST change", () => {
  const rule: BudgetRule = { id: 1, scope: "team", target: "ml", amountNano: 10_000, period: "daily", timezone: "Europe/London", hard: true };

  /** A gate whose "database" grants from one amount per period, as lease-grants.ts would. */
  function gateWithLedger() {
    const spentByPeriod = new Map<number, number>();
    let gate: BudgetGate;
    const reports: LeaseReport[][] = [];
    const answer = () => {
      const leases = gate.leaseReports(clock);
      reports.push(leases);
      const grants = leases.map((l) => {
        const held = spentByPeriod.get(l.periodStart) ?? 0;
        const granted = Math.max(0, Math.min(l.want, rule.amountNano - held));
        spentByPeriod.set(l.periodStart, held + granted);
        return { budgetId: l.budgetId, periodStart: l.periodStart, granted, othersHeld: 0 };
      });
      gate.applyGrants(grants, leases);
    };
    gate = new BudgetGate(() => queueMicrotask(answer));
    gate.replaceRules([rule]);
    let clock = 0;
    return {
      gate,
      reports,
      setClock: (ms: number) => {
        clock = ms;
      },
    };
  }

  it("room used up late on the 25-hour day is whole again at the next local midnight", async () => {
    const { gate, reports, setClock } = gateWithLedger();
    const late = at("2026-10-25T23:30:00Z"); // 23:30 GMT on Sunday 25 October, a 25-hour day
    setClock(late);
    const first = await gate.reserve([rule], 10_000, late);
    expect(first).not.toBeInstanceOf(BudgetExceeded);
    (first as Exclude<typeof first, BudgetExceeded>).settle(10_000, 1);
    expect(await gate.reserve([rule], 1, late)).toBeInstanceOf(BudgetExceeded);
    expect(reports[0]![0]).toMatchObject({ periodStart: at("2026-10-24T23:00:00Z"), periodEnd: at("2026-10-26T00:00:00Z") });

    const next = at("2026-10-26T00:00:00Z");
    setClock(next);
    const second = await gate.reserve([rule], 10_000, next);
    expect(second).not.toBeInstanceOf(BudgetExceeded);
    expect(reports.at(-1)!.map((l) => l.periodStart)).toContain(next);
  });
});
