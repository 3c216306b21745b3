import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runAlerts } from "../../jobs/alerts.ts";
import { makeCall } from "../factories.ts";
import { startTestServer, type TestServer } from "../harness.ts";
import { record } from "../pages/page-client.ts";
import { startWebhookReceiver, type WebhookReceiver } from "./webhook-receiver.ts";

// Error-rate, p95-latency and budget-projection rules on the real server with a pinned clock,
// delivered to a real webhook receiver that verifies the HMAC: each condition fires once when it
// starts to hold and resolves once when it stops (instances.test.ts: across processes and restarts).

const SECRET = "whsec-rule-kinds-0123456789";
const T0 = Date.parse("2026-06-10T12:00:00Z");
let now = T0;
const clock = { now: () => now };
let server: TestServer;
let hook: WebhookReceiver;

beforeAll(async () => {
  hook = await startWebhookReceiver(SECRET);
  server = await startTestServer({}, clock);
});
afterAll(async () => {
  await server?.stop();
  await hook?.close();
});

const api = async (path: string, method: string, body?: unknown) => {
  const res = await server.api(path, { method, headers: { "content-type": "application/json" }, body: body === undefined ? undefined : JSON.stringify(body) });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
};
const newRule = async (rule: Record<string, unknown>) => {
  const res = await api("/api/alerts", "POST", { ...rule, channels: [{ type: "webhook", url: `${hook.url}/${rule.kind}`, secret: SECRET }] });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return res.body.id as number;
};
const run = (db = server.db) => runAlerts(db, now, { smtpUrl: undefined, from: "tollbooth@example.com" });
const events = async (id: number) => ((await api(`/api/alerts/${id}/events`, "GET")).body.data as Array<Record<string, unknown>>).map((e) => [e.transition, e.value, e.status]);
const bodiesAt = (kind: string) => hook.received.filter((r) => r.path === `/${kind}`).map((r) => r.body);
const calls = (n: number, at: number, overrides: Parameters<typeof makeCall>[0] = {}) => Array.from({ length: n }, (_, i) => ({ call: makeCall({ createdAt: at + i, ...overrides }) }));

describe("alert rules", () => {
  it("error_rate: fires once over the threshold, resolves once when the window's rate falls back", async () => {
    now = T0;
    const id = await newRule({ kind: "error_rate", threshold: 10, window_minutes: 15 });
    await record(server, ...calls(16, now - 5 * 60_000), ...calls(4, now - 4 * 60_000, { status: 502, errorType: "upstream_error" }));
    await run();
    now += 30_000;
    await run();
    await record(server, ...calls(40, now - 60_000));
    now += 30_000;
    await run();
    await run();
    expect(await events(id)).toEqual([
      ["resolved", "6.67 % of 60 calls (4 failed)", "sent"],
      ["fired", "20 % of 20 calls (4 failed)", "sent"],
    ]);
    expect(bodiesAt("error_rate").map((b) => [b.status, b.error_rate_percent, b.threshold_percent])).toEqual([
      ["fired", 20, 10],
      ["resolved", 6.67, 10],
    ]);
    expect(hook.refused).toBe(0);
  });

  it("latency_p95: the successful calls' 95th percentile over the limit fires; an emptied window resolves", async () => {
    now = T0 + 86_400_000;
    const id = await newRule({ kind: "latency_p95", threshold: 1000, window_minutes: 10 });
    // 18 fast and 2 slow successes: the 19th of 20 (nearest rank) is slow. The instant failures
    // would pull a percentile of all calls under the limit; they are not counted.
    await record(server, ...calls(18, now - 60_000, { durationMs: 100 }), ...calls(2, now - 50_000, { durationMs: 4000 }), ...calls(30, now - 40_000, { status: 401, errorType: "invalid_api_key", durationMs: 1 }));
    await run();
    expect(await events(id)).toEqual([["fired", "p95 4000 ms over 20 calls", "sent"]]);
    now += 11 * 60_000; // the window now holds no calls
    await run();
    await run();
    expect((await events(id))[0]).toEqual(["resolved", "no successful calls", "sent"]);
    expect(bodiesAt("latency_p95").map((b) => [b.status, b.p95_ms])).toEqual([
      ["fired", 4000],
      ["resolved", null],
    ]);
  });

  it("budget_projection: fires when spend so far, extended to the period's end, passes the budget; raising the budget resolves it", async () => {
    now = Date.parse("2026-06-16T00:00:00Z"); // half of June gone
    const budget = await api("/api/budgets", "POST", { scope: "team", target: "proj", amount_usd: "100.00", period: "monthly", timezone: "UTC", soft_thresholds: [] });
    const id = await newRule({ kind: "budget_projection", budget_id: budget.body.id });
    await record(server, { call: makeCall({ createdAt: now - 3_600_000, team: "proj", costNano: 60_000_000_000 }) });
    await run();
    await run();
    expect(await events(id)).toEqual([["fired", "projected $120.00 of $100.00 (spent $60.00)", "sent"]]);
    expect(bodiesAt("budget_projection")[0]).toMatchObject({ status: "fired", projected_usd: "120.000000000", amount_usd: "100.000000000", period_end: "2026-07-01T00:00:00.000Z" });
    expect((await api(`/api/budgets/${budget.body.id}`, "PATCH", { amount_usd: "150.00" })).status).toBe(200);
    await run();
    expect((await events(id))[0]).toEqual(["resolved", "projected $120.00 of $150.00 (spent $60.00)", "sent"]);
  });

  it("budget_projection waits for 5 % of the period before judging a straight line through a few calls", async () => {
    now = Date.parse("2026-07-01T00:30:00Z"); // 30 minutes into July
    const budget = await api("/api/budgets", "POST", { scope: "team", target: "early", amount_usd: "100.00", period: "monthly", timezone: "UTC", soft_thresholds: [] });
    const id = await newRule({ kind: "budget_projection", budget_id: budget.body.id });
    await record(server, { call: makeCall({ createdAt: now - 60_000, team: "early", costNano: 1_000_000_000 }) }); // $1 → "$1,488 by July 31"
    await run();
    expect(await events(id)).toEqual([]);
  });
});
