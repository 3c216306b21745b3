import { describe, expect, it } from "vitest";
import { periodBounds } from "../../server/budgets/budget-period.ts";
import { createBudget, LEASE_EXPIRY_MS } from "../../server/budgets/budgets-store.ts";
import { grantLeases } from "../../server/budgets/lease-grants.ts";
import { bothEngines } from "../db/engines.ts";

// Room a process leased from a hard budget comes back to the others when that process dies: a
// killed process stops renewing its lease, and a lease whose heartbeat is older than
// LEASE_EXPIRY_MS no longer counts against the budget. Until then it does, so a process that is
// merely slow to report can never have its room granted twice.

const NOW = Date.parse("2026-11-30T12:00:00Z");
const AMOUNT = 10_000;

describe.each(bothEngines())("a dead process's budget lease on %s", (_engine, open) => {
  it("holds its room until it expires, then the room goes to the living", async () => {
    const db = await open();
    const budget = await createBudget(db, { scope: "team", target: "ml", amountNano: AMOUNT, period: "daily", timezone: "UTC", hard: true, softThresholds: [] }, NOW);
    const { start, end } = periodBounds("daily", "UTC", NOW);
    const ask = (instance: string, held: number, want: number, now: number) =>
      grantLeases(db, instance, [{ budgetId: budget.id, periodStart: start, periodEnd: end, held, want }], now);

    // Process A takes 6,000 of the room, then is killed (it never reports again).
    expect((await ask("A", 0, 6_000, NOW))[0]).toMatchObject({ granted: 6_000, othersHeld: 0 });

    // B, just before A's lease expires: only what A does not hold.
    const before = (await ask("B", 0, AMOUNT, NOW + LEASE_EXPIRY_MS - 1))[0]!;
    expect(before).toMatchObject({ granted: 4_000, othersHeld: 6_000 });

    // B, once A's heartbeat is older than LEASE_EXPIRY_MS: A's 6,000 is B's to have.
    const after = (await ask("B", 4_000, AMOUNT, NOW + LEASE_EXPIRY_MS + 1))[0]!;
    expect(after).toMatchObject({ granted: 6_000, othersHeld: 0 });

    // And never more than the budget: B now holds all of it.
    expect((await ask("B", AMOUNT, 1, NOW + LEASE_EXPIRY_MS + 2))[0]).toMatchObject({ granted: 0 });
  });
});
