import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import type { Db } from "../../server/db/open.ts";
import { BACKOFF_BASE_MS, LEASE_MS, MAX_ATTEMPTS, NOT_SENT_NO_SMTP, claimPeriod, listDeliveries } from "../../server/reports/deliveries-store.ts";
import { addSchedule, at, insertCalls, tempDb, tick, type TempDb } from "./report-fixtures.ts";
import { startSmtpSink, type SmtpSink } from "./smtp-sink.ts";
import { sqliteClient } from "../../server/db/sqlite.ts";

// Each (schedule, period) is sent exactly once, on time in its zone, retried with backoff when
// SMTP refuses, caught up (bounded) after downtime (docs/architecture.md, "Each report period is
// sent once"). A real SMTP server receives the mail; the clock is a plain `now` argument.

let sink: SmtpSink;
let tmp: TempDb;
let db: Db;

beforeAll(async () => {
  sink = await startSmtpSink();
});
afterAll(async () => {
  await sink.close();
});

function freshDb(): Db {
  tmp = tempDb();
  db = tmp.open();
  sink.messages.length = 0;
  sink.refuse(0);
  return db;
}

afterEach(() => {
  if (db) void db.close();
  tmp?.remove();
});

const deliveries = (scheduleId: number) => listDeliveries(db, scheduleId, { limit: 100 });

describe("a schedule fires at its local time", () => {
  it("daily 09:00 Europe/London is 08:00 UTC in summer time and 09:00 UTC in winter (DST change)", async () => {
    freshDb();
    const s = await addSchedule(db, { period: "daily", send_at: "09:00", timezone: "Europe/London", recipients: ["oncall@example.com"] }, at("2026-03-28T12:00:00Z"));
    insertCalls(db, [{ createdAt: at("2026-03-28T12:00:00Z"), team: "ml" }, { createdAt: at("2026-10-25T12:00:00Z"), team: "ml" }]);

    // 29 March 2026: clocks go forward at 01:00 UTC, so 09:00 local is 08:00 UTC.
    expect((await tick(db, at("2026-03-29T07:59:00Z"), sink.url)).sent).toBe(0);
    expect((await tick(db, at("2026-03-29T08:00:00Z"), sink.url)).sent).toBe(1);
    expect(sink.messages).toHaveLength(1);
    expect(sink.messages[0]!.subject).toContain("Sat 28 Mar 2026");
    expect(sink.messages[0]!.to && "text" in sink.messages[0]!.to ? sink.messages[0]!.to.text : "").toBe("oncall@example.com");

    // The 23-hour day of the change: its report goes out at 08:00 UTC the next morning.
    expect((await tick(db, at("2026-03-30T08:00:00Z"), sink.url)).sent).toBe(1);
    expect(sink.messages[1]!.subject).toContain("Sun 29 Mar 2026");

    // 25 October 2026: clocks go back, a 25-hour day; on the 26th 09:00 local is 09:00 UTC.
    sink.messages.length = 0;
    await tick(db, at("2026-10-25T09:00:00Z"), sink.url); // the 24th's report (and catch-up), not the one under test
    sink.messages.length = 0;
    expect((await tick(db, at("2026-10-26T08:00:00Z"), sink.url)).sent).toBe(0);
    expect((await tick(db, at("2026-10-26T09:00:00Z"), sink.url)).sent).toBe(1);
    expect(sink.messages[0]!.subject).toContain("Sun 25 Oct 2026");
    const row = (await deliveries(s.id)).find((d) => d.periodStart === at("2026-10-24T23:00:00Z"))!;
    expect(row.periodEnd - row.periodStart, "the fall-back day is 25 hours").toBe(25 * 3_600_000);
    expect(row.status).toBe("sent");
    expect(row.sentAt).toBe(at("2026-10-26T09:00:00Z"));
  });

  it("monthly on the 1st at 09:00 covers the whole previous month in the zone", async () => {
    freshDb();
    await addSchedule(db, { period: "monthly", timezone: "Europe/London" }, at("2026-10-15T00:00:00Z"));
    insertCalls(db, [{ createdAt: at("2026-09-30T23:30:00Z") }, { createdAt: at("2026-09-30T22:30:00Z") }]);
    expect((await tick(db, at("2026-11-01T08:59:59Z"), sink.url)).sent).toBe(0);
    expect((await tick(db, at("2026-11-01T09:00:00Z"), sink.url)).sent).toBe(1);
    const mail = sink.messages[0]!;
    expect(mail.subject).toMatch(/^Spend report Oct 2026: /);
    // 00:30 BST on 1 October is in October; 23:30 BST on 30 September is not.
    expect(mail.text).toMatch(/Requests:\s+1\n/);
  });
});

describe("exactly once", () => {
  it("under restart: a new process on the same database does not send the period again", async () => {
    freshDb();
    await addSchedule(db, { period: "daily", send_at: "06:00" }, at("2026-11-01T12:00:00Z"));
    expect((await tick(db, at("2026-11-02T06:00:00Z"), sink.url)).sent).toBe(1);
    sqliteClient(db).close();

    // "Restart": a new connection (migrations run again at open), same tick time and a later one.
    db = tmp.open();
    expect((await tick(db, at("2026-11-02T06:00:00Z"), sink.url)).sent).toBe(0);
    expect((await tick(db, at("2026-11-02T06:01:00Z"), sink.url)).sent).toBe(0);
    expect(sink.messages).toHaveLength(1);
  });

  it("a claim left by a runner that died is taken over once its lease has run out, not before", async () => {
    freshDb();
    const s = await addSchedule(db, { period: "daily", send_at: "06:00" }, at("2026-11-01T12:00:00Z"));
    const now = at("2026-11-02T06:00:00Z");
    // The dead runner claimed the period and never finished.
    expect(await claimPeriod(db, s.id, { start: at("2026-11-01T00:00:00Z"), end: at("2026-11-02T00:00:00Z") }, now)).not.toBeNull();
    expect((await tick(db, now + 60_000, sink.url)).sent).toBe(0);
    expect((await tick(db, now + LEASE_MS, sink.url)).sent).toBe(1);
    expect((await tick(db, now + 2 * LEASE_MS, sink.url)).sent).toBe(0);
    expect(sink.messages).toHaveLength(1);
    const [row] = (await deliveries(s.id));
    expect(row).toMatchObject({ status: "sent", attempts: 2 });
    expect(row!.lastError).toMatch(/^interrupted/);
  });

  it("under two overlapping ticks in one process", async () => {
    freshDb();
    for (let i = 0; i < 4; i++) await addSchedule(db, { name: `r${i}`, period: "daily", send_at: "06:00" }, at("2026-11-01T12:00:00Z"));
    const now = at("2026-11-05T06:00:00Z");
    const results = await Promise.all([tick(db, now, sink.url), tick(db, now, sink.url)]);
    // 4 schedules × 3 catch-up days (the 2nd, 3rd and 4th), 1 Nov skipped as too old.
    expect(results[0]!.sent + results[1]!.sent).toBe(12);
    expect(sink.messages).toHaveLength(12);
  });
});

describe("retry with backoff", () => {
  it("keeps the row failed with the SMTP error, retries after the backoff, then sends once", async () => {
    freshDb();
    const s = await addSchedule(db, { period: "daily", send_at: "06:00" }, at("2026-11-01T12:00:00Z"));
    const now = at("2026-11-02T06:00:00Z");
    sink.refuse(1, 451);
    expect(await tick(db, now, sink.url)).toMatchObject({ sent: 0, failed: 1 });
    let [row] = (await deliveries(s.id));
    expect(row).toMatchObject({ status: "failed", attempts: 1, nextAttemptAt: now + BACKOFF_BASE_MS });
    expect(row!.lastError).toContain("451");
    expect(row!.html, "the rendered email is kept for display").toContain("<table");

    expect((await tick(db, now + BACKOFF_BASE_MS - 60_000, sink.url)).sent, "not before the backoff").toBe(0);
    expect((await tick(db, now + BACKOFF_BASE_MS, sink.url)).sent).toBe(1);
    [row] = (await deliveries(s.id));
    expect(row).toMatchObject({ status: "sent", attempts: 2, nextAttemptAt: null, sentAt: now + BACKOFF_BASE_MS });
    expect(sink.messages).toHaveLength(1);
  });

  it(`gives up after ${MAX_ATTEMPTS} attempts, backing off exponentially`, async () => {
    freshDb();
    const s = await addSchedule(db, { period: "daily", send_at: "06:00" }, at("2026-11-01T12:00:00Z"));
    sink.refuse(100, 554);
    let now = at("2026-11-02T06:00:00Z");
    const waits: number[] = [];
    for (let attempt = 1; attempt <= MAX_ATTEMPTS; attempt++) {
      await tick(db, now, sink.url);
      const [row] = (await deliveries(s.id));
      expect(row).toMatchObject({ status: "failed", attempts: attempt });
      if (row!.nextAttemptAt === null) break;
      waits.push(row!.nextAttemptAt - now);
      now = row!.nextAttemptAt;
    }
    expect(waits).toEqual([1, 2, 4, 8].map((k) => k * BACKOFF_BASE_MS));
    expect((await deliveries(s.id))[0]!.nextAttemptAt, "no retry after the last attempt").toBeNull();
    expect((await tick(db, now + 3_600_000, sink.url)).failed).toBe(0);
    expect(sink.messages).toHaveLength(0);
  });
});

describe("catch-up after downtime", () => {
  it("sends the last 3 missed periods once, oldest first, and records older ones as skipped", async () => {
    freshDb();
    const s = await addSchedule(db, { period: "daily", send_at: "06:00" }, at("2026-11-01T12:00:00Z"));
    // Down from 1 Nov until 10 Nov 05:00: the reports of 1–8 Nov are due, 9 Nov's is not yet.
    const result = await tick(db, at("2026-11-10T05:00:00Z"), sink.url);
    expect(result).toMatchObject({ sent: 3, skipped: 5 });
    expect(sink.messages.map((m) => m.subject!.slice(0, 29))).toEqual([
      "Spend report Fri 6 Nov 2026: ",
      "Spend report Sat 7 Nov 2026: ",
      "Spend report Sun 8 Nov 2026: ",
    ]);
    const skipped = (await deliveries(s.id)).filter((d) => d.status === "skipped");
    expect(skipped).toHaveLength(5);
    expect(skipped[0]!.lastError).toMatch(/^skipped: more than 3 periods behind/);
    // Nothing is sent twice, and the skipped ones stay skipped.
    expect((await tick(db, at("2026-11-10T05:30:00Z"), sink.url)).sent).toBe(0);
    expect((await tick(db, at("2026-11-10T06:00:00Z"), sink.url)).sent).toBe(1);
    expect(sink.messages).toHaveLength(4);
  });

  it("does not mail periods from before a schedule was switched back on", async () => {
    freshDb();
    const s = await addSchedule(db, { period: "daily", send_at: "06:00", enabled: false }, at("2026-11-01T12:00:00Z"));
    const { updateSchedule } = await import("../../server/reports/schedules-store.ts");
    await updateSchedule(db, s, { enabled: true }, at("2026-11-10T07:00:00Z"));
    expect((await tick(db, at("2026-11-10T07:00:00Z"), sink.url)).sent).toBe(0);
    expect((await tick(db, at("2026-11-11T06:00:00Z"), sink.url)).sent).toBe(1);
  });
});

describe("without SMTP_URL", () => {
  it("renders and keeps the report, marked not sent", async () => {
    freshDb();
    const s = await addSchedule(db, { period: "daily", send_at: "06:00" }, at("2026-11-01T12:00:00Z"));
    expect(await tick(db, at("2026-11-02T06:00:00Z"), undefined)).toMatchObject({ sent: 0, notSent: 1 });
    const [row] = (await deliveries(s.id));
    expect(row).toMatchObject({ status: "not_sent", lastError: NOT_SENT_NO_SMTP, nextAttemptAt: null });
    expect(row!.subject).toMatch(/^Spend report Sun 1 Nov 2026/);
    expect(row!.html).toContain("<table");
    expect(row!.text).toContain("Spend by model");
    expect(row!.csv).toMatch(/^team,model,requests,/);
    // Kept, not retried.
    expect((await tick(db, at("2026-11-03T05:00:00Z"), undefined)).notSent).toBe(0);
  });
});

describe("SMTP_URL with credentials", () => {
  it("logs in with the user and password from the URL", async () => {
    const authSink = await startSmtpSink({ auth: true });
    try {
      freshDb();
      await addSchedule(db, { period: "daily", send_at: "06:00" }, at("2026-11-01T12:00:00Z"));
      expect((await tick(db, at("2026-11-02T06:00:00Z"), authSink.url)).sent).toBe(1);
      expect(authSink.logins).toEqual(["reporter:s3cret"]);
      expect(authSink.messages).toHaveLength(1);
    } finally {
      await authSink.close();
    }
  });
});
