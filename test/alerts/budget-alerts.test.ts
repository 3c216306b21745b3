import { createHmac } from "node:crypto";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runAlerts } from "../../jobs/alerts.ts";
import { makeCall } from "../factories.ts";
import { startTestServer, type TestServer } from "../harness.ts";
import { record } from "../pages/page-client.ts";
import { startSmtpSink, type SmtpSink } from "../reports/smtp-sink.ts";

// Budget soft-threshold alerts through a real SMTP server and a real HTTP webhook receiver:
// each crossing fires once, signed, retried when the receiver fails, and resolves once when the
// next period begins.

const SECRET = "whsec-0123456789abcdef";
let server: TestServer;
let sink: SmtpSink;
let hook: Server;
let hookUrl: string;
const received: Array<{ path: string; headers: Record<string, string | string[] | undefined>; body: string }> = [];
let failNext = 0;

beforeAll(async () => {
  sink = await startSmtpSink();
  server = await startTestServer({ SMTP_URL: sink.url });
  hook = createServer((req, res) => {
    let body = "";
    req.on("data", (c: Buffer) => (body += c));
    req.on("end", () => {
      received.push({ path: req.url ?? "", headers: req.headers, body });
      res.writeHead(failNext-- > 0 ? 500 : 204).end();
    });
  });
  await new Promise<void>((r) => hook.listen(0, "127.0.0.1", r));
  hookUrl = `http://127.0.0.1:${(hook.address() as AddressInfo).port}`;
});
afterAll(async () => {
  await server?.stop();
  await sink?.close();
  await new Promise((r) => hook?.close(r));
});

const post = async (path: string, body: unknown) => {
  const res = await server.api(path, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
};
const run = (now: number) => runAlerts(server.db, now, { smtpUrl: sink.url, from: "tollbooth@example.com" });
const spend = (usd: number) => record(server, { call: makeCall({ createdAt: Date.now() - 1_000, team: "ml", costNano: usd * 1_000_000_000 }) });

describe("budget soft-threshold alerts", () => {
  it("fire once per crossing to every channel, signed, and retry a failing webhook", async () => {
    const budget = await post("/api/budgets", { scope: "team", target: "ml", amount_usd: "10.00", period: "monthly", timezone: "UTC", soft_thresholds: [20, 50, 95] });
    const rule = await post("/api/alerts", {
      kind: "budget_threshold",
      budget_id: budget.body.id,
      channels: [
        { type: "webhook", url: `${hookUrl}/json`, secret: SECRET },
        { type: "webhook", url: `${hookUrl}/slack`, secret: SECRET, format: "slack" },
        { type: "email", to: ["finance@example.com"] },
      ],
    });
    expect(rule.status).toBe(201);
    expect(JSON.stringify(rule.body)).not.toContain(SECRET);

    await spend(2.5); // 25 %: past 20
    const now = Date.now();
    expect(await run(now)).toEqual({ fired: 1, resolved: 0, sent: 1, failed: 0 });
    expect(await run(now + 1_000)).toEqual({ fired: 0, resolved: 0, sent: 0, failed: 0 }); // never twice
    const json = received.find((r) => r.path === "/json")!;
    expect(json.headers["x-tollbooth-signature"]).toBe(`sha256=${createHmac("sha256", SECRET).update(json.body).digest("hex")}`);
    expect(JSON.parse(json.body)).toMatchObject({ event: "budget_threshold", status: "fired", scope: "team", target: "ml", threshold: 20, spent_usd: "2.500000000", amount_usd: "10.000000000" });
    expect(JSON.parse(received.find((r) => r.path === "/slack")!.body).text).toMatch(/team ml is past 20%: \$2\.50 of \$10\.00/);
    expect(sink.messages).toHaveLength(1);
    expect(sink.messages[0]!.subject).toBe("tollbooth: team ml past 20% of its monthly budget");

    await spend(3); // 55 %: past 50, the webhook fails once
    failNext = 1;
    expect(await run(now + 2_000)).toEqual({ fired: 1, resolved: 0, sent: 0, failed: 1 });
    expect(await run(now + 3_000)).toEqual({ fired: 0, resolved: 0, sent: 0, failed: 0 }); // backing off
    const before = received.length;
    expect(await run(now + 2_000 + 31_000)).toEqual({ fired: 0, resolved: 0, sent: 1, failed: 0 });
    // The retry goes only to the channel that failed: the Slack hook and the mailbox had it.
    expect(received.slice(before).map((r) => r.path)).toEqual(["/json"]);
    expect(sink.messages).toHaveLength(2);

    // The next month starts from $0: both crossings resolve, once.
    const nextMonth = now + 32 * 86_400_000;
    expect(await run(nextMonth)).toEqual({ fired: 0, resolved: 2, sent: 2, failed: 0 });
    expect(await run(nextMonth + 1_000)).toEqual({ fired: 0, resolved: 0, sent: 0, failed: 0 });
    const resolved = received.filter((r) => r.path === "/json").map((r) => JSON.parse(r.body) as Record<string, unknown>).filter((b) => b.status === "resolved");
    expect(resolved.map((b) => [b.threshold, b.spent_usd])).toEqual([
      [20, "0.000000000"],
      [50, "0.000000000"],
    ]);

    const events = (await (await server.api(`/api/alerts/${rule.body.id}/events`)).json()) as { data: Array<Record<string, unknown>> };
    expect(events.data.map((e) => [e.subject, e.transition, e.status, e.attempts])).toEqual([
      [`budget:${budget.body.id}:5000`, "resolved", "sent", 0],
      [`budget:${budget.body.id}:2000`, "resolved", "sent", 0],
      [`budget:${budget.body.id}:5000`, "fired", "sent", 1],
      [`budget:${budget.body.id}:2000`, "fired", "sent", 0],
    ]);
  });

  it("names the field of bad input with a 400", async () => {
    const cases: Array<[unknown, RegExp]> = [
      [{ kind: "cpu_load", channels: [{ type: "email", to: ["a@example.com"] }] }, /^kind:/],
      [{ kind: "budget_threshold", channels: [{ type: "webhook", url: "ftp://example.com/x", secret: SECRET }] }, /^channels\.0\.url: must be an http\(s\) URL/],
      [{ kind: "budget_threshold", channels: [{ type: "email", to: ["not an address"] }] }, /^channels\.0\.to\.0:/],
      [{ kind: "budget_threshold", channels: [] }, /^channels: must list at least one channel/],
    ];
    for (const [body, message] of cases) {
      const res = await post("/api/alerts", body);
      expect(res.status).toBe(400);
      expect((res.body.error as { message: string }).message).toMatch(message);
    }
  });
});
