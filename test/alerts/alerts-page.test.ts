import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runAlerts } from "../../jobs/alerts.ts";
import { makeCall } from "../factories.ts";
import { record, useSignedInServer } from "../pages/page-client.ts";
import { startSmtpSink, type SmtpSink } from "../reports/smtp-sink.ts";
import { startWebhookReceiver, type WebhookReceiver } from "./webhook-receiver.ts";

// The /alerts page over plain HTTP as a signed-in user: rules created, edited, disabled and
// deleted through its CSRF-checked forms, a test send per channel that says what the other end
// answered (a real HMAC-checking receiver, a real SMTP server), and the history of events.

const SECRET = "whsec-page-0123456789abcdef";
let hook: WebhookReceiver;
let sink: SmtpSink;
let smtpUrl = "";
beforeAll(async () => {
  hook = await startWebhookReceiver(SECRET);
  sink = await startSmtpSink();
  smtpUrl = sink.url;
});
afterAll(async () => {
  await hook?.close();
  await sink?.close();
});
// The sink's URL is only known in beforeAll; the server reads it from a getter at its start.
const app = useSignedInServer(
  Object.defineProperty({} as Record<string, string>, "SMTP_URL", {
    enumerable: true,
    get: () => smtpUrl,
  }),
);

const form = (fields: Record<string, string>) => app.user.post("/alerts", { _csrf: app.user.csrf, ...fields });
const page = async (path = "/alerts") => {
  const res = await app.user.get(path);
  expect(res.status).toBe(200);
  return res.text();
};
const rules = async () => ((await (await app.server.api("/api/alerts")).json()) as { data: Array<Record<string, unknown>> }).data;
const text = (html: string) => html.replace(/<[^>]+>/g, " ").replace(/\s+/g, " ");

describe("/alerts", () => {
  it("creates a rule from the form, refuses bad input naming the field, and refuses a post without the CSRF token", async () => {
    const created = await form({ kind: "error_rate", threshold: "5", window_minutes: "10", emails: "oncall@example.com", webhook_url: `${hook.url}/page`, webhook_secret: SECRET, webhook_format: "json", enabled: "on" });
    expect(created.status).toBe(303);
    const [rule] = await rules();
    expect(rule).toMatchObject({ kind: "error_rate", threshold: 5, window_minutes: 10, enabled: true, channels: [{ type: "email", to: ["oncall@example.com"] }, { type: "webhook", url: `${hook.url}/page`, format: "json" }] });
    expect(text(await page())).toContain("Fires when more than 5 % of calls fail in 10 min.");

    const bad = await form({ kind: "error_rate", threshold: "250", emails: "oncall@example.com", enabled: "on" });
    expect(bad.status).toBe(400);
    expect(text(await bad.text())).toContain("threshold: must be from 0.01 to 100 (percent of calls that failed)");
    const noHttp = await form({ kind: "latency_p95", threshold: "800", webhook_url: "ftp://example.com/x", webhook_secret: SECRET, enabled: "on" });
    expect(text(await noHttp.text())).toContain("channels.0.url: must be an http(s) URL");

    const forged = await app.user.post("/alerts", { kind: "error_rate", threshold: "5", emails: "x@example.com" });
    expect(forged.status).toBe(403);
    expect(await rules()).toHaveLength(1);
  });

  it("edits a rule keeping its webhook secret when the field is left blank, and the test send says what each channel answered", async () => {
    const [rule] = await rules();
    const editing = await page(`/alerts?edit=${rule!.id}`);
    expect(editing).toContain(`action="/alerts/${rule!.id}"`);
    expect(editing).not.toContain(SECRET);
    const saved = await app.user.post(`/alerts/${rule!.id}`, { _csrf: app.user.csrf, kind: "error_rate", threshold: "7.5", window_minutes: "10", emails: "oncall@example.com", webhook_url: `${hook.url}/page`, webhook_secret: "", webhook_format: "slack", enabled: "on" });
    expect(saved.status).toBe(303);
    expect((await rules())[0]).toMatchObject({ threshold: 7.5, channels: [{ type: "email" }, { type: "webhook", format: "slack" }] });

    // The receiver only accepts the original secret's signature: "answered 204" proves it was kept.
    const webhookTest = await app.user.post(`/alerts/${rule!.id}/test`, { _csrf: app.user.csrf, channel: "1" });
    expect(webhookTest.status).toBe(200);
    expect(text(await webhookTest.text())).toContain("Test sent: answered 204.");
    expect(hook.received.at(-1)?.body.text).toMatch(/test of tollbooth alert rule/);

    hook.failNext(1);
    expect(text(await (await app.user.post(`/alerts/${rule!.id}/test`, { _csrf: app.user.csrf, channel: "1" })).text())).toContain("Test failed: webhook answered 500.");

    const before = sink.messages.length;
    expect(text(await (await app.user.post(`/alerts/${rule!.id}/test`, { _csrf: app.user.csrf, channel: "0" })).text())).toContain("Test sent: accepted by the SMTP server.");
    expect(sink.messages.slice(before).map((m) => m.subject)).toEqual([`tollbooth: test of alert rule #${rule!.id} (error_rate)`]);
    sink.refuse(1);
    expect(text(await (await app.user.post(`/alerts/${rule!.id}/test`, { _csrf: app.user.csrf, channel: "0" })).text())).toMatch(/Test failed: .*mailbox busy/);
  });

  it("lists fired and resolved events with their values, and disables, enables and deletes rules", async () => {
    const [rule] = await rules();
    const now = Date.now();
    await record(app.server, ...Array.from({ length: 20 }, (_, i) => ({ call: makeCall({ createdAt: now - 60_000, ...(i < 4 ? { status: 500, errorType: "upstream_error" } : {}) }) })));
    await runAlerts(app.server.db, now, { smtpUrl, from: "tollbooth@example.com" });
    const html = text(await page());
    expect(html).toContain("firing (1)");
    expect(html).toMatch(/Error rate #\d+ error rate 20 % over 7\.5 % in the last 10 min fired 20 % of 20 calls \(4 failed\) sent/);

    expect((await app.user.post(`/alerts/${rule!.id}/disable`, { _csrf: app.user.csrf })).status).toBe(303);
    expect((await rules())[0]!.enabled).toBe(false);
    expect(text(await page())).toContain("disabled");
    expect((await app.user.post(`/alerts/${rule!.id}/enable`, { _csrf: app.user.csrf })).status).toBe(303);
    expect((await rules())[0]!.enabled).toBe(true);

    expect((await app.user.post(`/alerts/${rule!.id}/delete`, { _csrf: app.user.csrf })).status).toBe(303);
    expect(await rules()).toEqual([]);
    expect(text(await page())).toContain("No alert rules yet.");
    expect((await app.user.post(`/alerts/${rule!.id}/delete`, { _csrf: app.user.csrf })).status).toBe(404);
  });
});
