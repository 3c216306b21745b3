import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createAlertRule, listAlertEvents } from "../../server/alerts/alerts-store.ts";
import { runAlertRules } from "../../server/alerts/run-alerts.ts";
import { calls } from "../../server/db/schema.ts";
import { bothEngines } from "../db/engines.ts";
import { makeCall } from "../factories.ts";
import { startWebhookReceiver, type WebhookReceiver } from "./webhook-receiver.ts";

// Concurrent alert runs on one database, on SQLite and on PostgreSQL: runs that read the same
// state race for the same (rule, subject, seq) row and for the same send lease, and exactly one
// wins each. On PostgreSQL the runs use separate pooled connections; on SQLite they interleave
// at every await, so each reads the state before any of them has claimed.

const SECRET = "whsec-claims-0123456789";
const T0 = Date.UTC(2026, 10, 3, 12);
let hook: WebhookReceiver;

beforeAll(async () => {
  hook = await startWebhookReceiver(SECRET);
});
afterAll(async () => {
  await hook?.close();
});

describe.each(bothEngines())("alert claims on %s", (engine, open) => {
  it("four concurrent runs fire a crossing once and send it once; four more resolve it once", async () => {
    const db = await open();
    // PostgreSQL makes months ahead of now only; a plain insert into another month is refused.
    if (engine === "postgres") await db.run(sql`SELECT tollbooth_ensure_calls_partitions(${T0}, 0)`);
    const path = `/${engine}`;
    const rule = await createAlertRule(db, { kind: "error_rate", budgetId: null, threshold: 5_000, windowMinutes: 10, enabled: true, channels: [{ type: "webhook", url: hook.url + path, secret: SECRET, format: "json" }] }, T0);
    await db.orm.insert(calls).values(Array.from({ length: 12 }, (_, i) => makeCall({ createdAt: T0 - 60_000 + i, status: 500, errorType: "upstream_error" })));
    const runs = (at: number) => Promise.all([1, 2, 3, 4].map(() => runAlertRules(db, at, null, { tz: "UTC" })));

    const first = await runs(T0);
    expect(first.reduce((n, r) => n + r.fired, 0)).toBe(1);
    expect(first.reduce((n, r) => n + r.sent, 0)).toBe(1);

    const second = await runs(T0 + 11 * 60_000); // the window has emptied
    expect(second.reduce((n, r) => n + r.resolved, 0)).toBe(1);
    expect(second.reduce((n, r) => n + r.sent, 0)).toBe(1);

    expect(hook.received.filter((r) => r.path === path).map((r) => r.body.status)).toEqual(["fired", "resolved"]);
    expect((await listAlertEvents(db, rule.id)).map((e) => [e.seq, e.transition, e.status])).toEqual([
      [2, "resolved", "sent"],
      [1, "fired", "sent"],
    ]);
  });
});
