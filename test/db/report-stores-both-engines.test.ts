import { describe, expect, it } from "vitest";
import {
  claimedPeriodStarts,
  claimKept,
  claimManual,
  claimPeriod,
  dueForRetry,
  finishAttempt,
  getDelivery,
  LEASE_MS,
  listDeliveries,
  listRecentDeliveries,
  reclaim,
  recordSkipped,
} from "../../server/reports/deliveries-store.ts";
import type { ScheduleInput } from "../../server/reports/schedule-input.ts";
import { createSchedule, deleteSchedule, getSchedule, listSchedules, updateSchedule } from "../../server/reports/schedules-store.ts";
import { bothEngines } from "./engines.ts";

// Report schedules and the delivery claim protocol, with the same assertions on SQLite and on
// PostgreSQL: each (schedule, period) is claimed once, a lease is taken over by one runner only,
// and a runner that lost its claim cannot overwrite the outcome.

const T0 = Date.UTC(2026, 10, 1);
const DAY = 86_400_000;
const input: ScheduleInput = {
  name: "Weekly spend",
  kind: "spend",
  period: "weekly",
  send_at: "09:00",
  timezone: "Europe/London",
  recipients: ["a@example.com"],
  filter: { team: "ml" },
  enabled: true,
};
const rendered = { subject: "Spend", html: "<p>hi</p>", text: "hi", csv: "a,b\n" };

describe.each(bothEngines())("report stores on %s", (_engine, open) => {
  it("schedules: created, read back with booleans and JSON text, listed by enabled, retimed, deleted with their deliveries", async () => {
    const db = await open();
    const a = await createSchedule(db, input, T0);
    expect(a).toMatchObject({ name: "Weekly spend", enabled: true, recipients: '["a@example.com"]', filter: '{"team":"ml"}', activeFrom: T0 });
    const b = await createSchedule(db, { ...input, name: "Off", enabled: false, filter: null }, T0);
    expect(await getSchedule(db, b.id)).toEqual(b);
    expect(b.enabled).toBe(false);
    expect((await listSchedules(db, { enabledOnly: true })).map((s) => s.id)).toEqual([a.id]);
    expect((await listSchedules(db)).map((s) => s.id)).toEqual([a.id, b.id]);

    const renamed = await updateSchedule(db, a, { name: "Renamed" }, T0 + 1);
    expect(renamed).toMatchObject({ name: "Renamed", activeFrom: T0, updatedAt: T0 + 1 });
    const on = await updateSchedule(db, b, { enabled: true }, T0 + 2);
    expect(on).toMatchObject({ enabled: true, activeFrom: T0 + 2 });

    await claimPeriod(db, a.id, { start: T0, end: T0 + 7 * DAY }, T0);
    expect(await deleteSchedule(db, a.id)).toBe(true);
    expect(await deleteSchedule(db, a.id)).toBe(false);
    expect(await listRecentDeliveries(db, 10)).toEqual([]);
  });

  it("deliveries: one claim per scheduled period, skipped recorded once, manual sends outside the key", async () => {
    const db = await open();
    const s = await createSchedule(db, input, T0);
    const week = { start: T0, end: T0 + 7 * DAY };
    const claim = await claimPeriod(db, s.id, week, T0);
    expect(claim).toEqual({ id: expect.any(Number), attempts: 1 });
    expect(await claimPeriod(db, s.id, week, T0 + 1)).toBeNull();
    const next = { start: T0 + 7 * DAY, end: T0 + 14 * DAY };
    expect(await recordSkipped(db, s.id, next, T0, "too old")).toBe(true);
    expect(await recordSkipped(db, s.id, next, T0, "too old")).toBe(false);
    const manual = await claimManual(db, s.id, week, T0 + 2);
    expect(manual.id).not.toBe(claim!.id);
    expect([...(await claimedPeriodStarts(db, s.id, T0))].sort()).toEqual([week.start, next.start]);
    expect((await listDeliveries(db, s.id, { limit: 10 })).map((d) => [d.trigger, d.status])).toEqual([
      ["manual", "claimed"],
      ["schedule", "skipped"],
      ["schedule", "claimed"],
    ]);
  });

  it("deliveries: an expired lease is retaken by one runner, the old runner's outcome is refused, disabled schedules wait", async () => {
    const db = await open();
    const s = await createSchedule(db, input, T0);
    const claim = (await claimPeriod(db, s.id, { start: T0, end: T0 + 7 * DAY }, T0))!;
    expect(await dueForRetry(db, T0 + LEASE_MS - 1, 10)).toEqual([]);
    const late = T0 + LEASE_MS;
    const [seen] = await dueForRetry(db, late, 10);
    expect(seen).toEqual(claim);
    const [first, second] = await Promise.all([reclaim(db, seen!, late), reclaim(db, seen!, late)]);
    expect([first, second].filter(Boolean)).toEqual([{ id: claim.id, attempts: 2 }]);
    expect(await getDelivery(db, claim.id)).toMatchObject({ status: "claimed", attempts: 2, lastError: expect.stringMatching(/^interrupted/) });

    expect(await finishAttempt(db, claim, { status: "sent" }, rendered, late + 1)).toBe(false);
    expect(await finishAttempt(db, { id: claim.id, attempts: 2 }, { status: "failed", error: "smtp 451", retryAt: late + 5 }, rendered, late + 1)).toBe(true);
    expect(await getDelivery(db, claim.id)).toMatchObject({ status: "failed", lastError: "smtp 451", nextAttemptAt: late + 5, sentAt: null, subject: "Spend", csv: "a,b\n" });

    await updateSchedule(db, s, { enabled: false }, late + 2);
    expect(await dueForRetry(db, late + 10, 10)).toEqual([]);
    await updateSchedule(db, { ...s, enabled: false }, { enabled: true }, late + 3);
    const again = (await reclaim(db, (await dueForRetry(db, late + 10, 10))[0]!, late + 10))!;
    expect(await finishAttempt(db, again, { status: "sent" }, null, late + 11)).toBe(true);
    expect(await getDelivery(db, claim.id)).toMatchObject({ status: "sent", attempts: 3, lastError: "smtp 451", sentAt: late + 11, subject: "Spend" });
  });

  it("a delivery kept unsent is claimed to send by one click only, its old reason cleared", async () => {
    const db = await open();
    const s = await createSchedule(db, input, T0);
    const claim = await claimManual(db, s.id, { start: T0, end: T0 + 7 * DAY }, T0);
    expect(await claimKept(db, claim.id, T0 + 1)).toBeNull(); // claimed, not kept
    expect(await finishAttempt(db, claim, { status: "not_sent", error: "not sent: no SMTP configured" }, rendered, T0 + 1)).toBe(true);
    const [first, second] = await Promise.all([claimKept(db, claim.id, T0 + 2), claimKept(db, claim.id, T0 + 2)]);
    expect([first, second].filter(Boolean)).toEqual([{ id: claim.id, attempts: 2 }]);
    expect(await getDelivery(db, claim.id)).toMatchObject({ status: "claimed", attempts: 2, lastError: null, nextAttemptAt: T0 + 2 + LEASE_MS, subject: "Spend" });
  });
});
