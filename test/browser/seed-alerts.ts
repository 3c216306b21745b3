import { runAlerts } from "../../jobs/alerts.ts";
import type { Demo } from "../../server/demo/demo.ts";

// Budgets and alert rules on the demo for the screenshots of /budgets, /alerts and the Overview's
// budget panel, and one alerts run so the history has events. Webhooks point at a closed local
// port, so their deliveries show as failing, as a misconfigured hook would.

export async function seedAlerts(demo: Demo): Promise<void> {
  const post = async (path: string, body: unknown) => {
    const res = await fetch(demo.url + path, { method: "POST", headers: { authorization: `Bearer ${demo.adminToken}`, "content-type": "application/json" }, body: JSON.stringify(body) });
    if (res.status !== 201) throw new Error(`${path}: ${res.status} ${await res.text()}`);
    return (await res.json()) as { id: number };
  };
  const budgets = [
    await post("/api/budgets", { scope: "team", target: "support-bot", amount_usd: "2.00", period: "monthly", timezone: "UTC", soft_thresholds: [50, 80, 95], hard: true }),
    await post("/api/budgets", { scope: "team", target: "search", amount_usd: "0.80", period: "monthly", timezone: "UTC", soft_thresholds: [50, 80] }),
    await post("/api/budgets", { scope: "team", target: "ml-platform", amount_usd: "0.05", period: "daily", timezone: "UTC", soft_thresholds: [80] }),
  ];
  const hook = { type: "webhook", url: "http://127.0.0.1:9/hooks/tollbooth", secret: "whsec-screenshots-0123456789", format: "slack" };
  await post("/api/alerts", { kind: "budget_threshold", channels: [{ type: "email", to: ["finance@example.com"] }, hook] });
  await post("/api/alerts", { kind: "budget_projection", budget_id: budgets[0]!.id, channels: [{ type: "email", to: ["finance@example.com"] }] });
  await post("/api/alerts", { kind: "error_rate", threshold: 2, window_minutes: 60 * 24, channels: [hook] });
  await post("/api/alerts", { kind: "latency_p95", threshold: 1500, window_minutes: 60, channels: [{ type: "email", to: ["oncall@example.com"] }] });
  await post("/api/alerts", { kind: "spend_anomaly", threshold: 3, channels: [{ type: "email", to: ["oncall@example.com"] }, hook] });
  await runAlerts(demo.server.db, Date.now(), { smtpUrl: undefined, from: "tollbooth@example.com", tz: demo.config.REPORT_TZ });
}
