import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestServer, type TestServer } from "../harness.ts";
import { logIn, record, type PageClient } from "../pages/page-client.ts";
import { makeCall } from "../factories.ts";
import { QUIET_CRON } from "./report-fixtures.ts";
import { startSmtpSink, type SmtpSink } from "./smtp-sink.ts";

// /reports for a signed-in browser: Preview (the email as it will look, in a sandboxed frame),
// Edit, enable/disable, and deliveries kept unsent that open and, once SMTP_URL is set, send.
// Two servers on one database file: the first without SMTP keeps a delivery unsent, the second
// (a restart with SMTP_URL set) sends it to a real SMTP server.

const now = Date.parse("2026-11-25T10:00:00Z");
const clock = { now: () => now };

let dir: string;
let server: TestServer;
let user: PageClient;
let sink: SmtpSink;
let scheduleId: number;

const form = {
  name: "Finance monthly",
  kind: "spend",
  period: "monthly",
  send_at: "09:00",
  timezone: "Europe/London",
  recipients: "finance@example.com",
  team: "",
  project: "",
  model: "",
  enabled: "on",
};

async function start(env: Record<string, string> = {}) {
  server = await startTestServer({ ...QUIET_CRON, DATABASE_URL: join(dir, "shared.db"), ...env }, clock);
  user = await logIn(server);
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "tollbooth-report-pages-"));
  sink = await startSmtpSink();
  await start();
  await record(server, { call: makeCall({ createdAt: Date.parse("2026-10-10T12:00:00Z"), team: "search", costNano: 2_500_000_000 }) });
  const created = await server.api("/api/reports", {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ name: "Finance monthly", kind: "spend", period: "monthly", send_at: "09:00", timezone: "Europe/London", recipients: ["finance@example.com"] }),
  });
  scheduleId = ((await created.json()) as { id: number }).id;
});

afterAll(async () => {
  await server?.stop();
  await sink?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe("preview", () => {
  it("the schedules table links to Preview and Edit", async () => {
    const page = await (await user.get("/reports")).text();
    expect(page).toContain(`href="/reports/${scheduleId}/preview"`);
    expect(page).toContain(`href="/reports/${scheduleId}/edit"`);
  });

  it("opens with the session: the email in a sandboxed frame, the same HTML the API previews", async () => {
    const res = await user.get(`/reports/${scheduleId}/preview`);
    const page = await res.text();
    expect(res.status, page).toBe(200);
    expect(page).toContain(`<iframe class="email-frame" sandbox="" src="/reports/${scheduleId}/preview/email"`);
    expect(page).toContain("Oct 2026");
    // The page keeps the dashboard's strict policy.
    expect(res.headers.get("content-security-policy")).toContain("script-src 'self'");

    const email = await user.get(`/reports/${scheduleId}/preview/email`);
    expect(email.status).toBe(200);
    const csp = email.headers.get("content-security-policy") ?? "";
    expect(csp).toContain("sandbox");
    expect(csp).toContain("default-src 'none'");
    expect(csp).toContain("style-src 'unsafe-inline'");
    expect(csp).toContain("frame-ancestors 'self'");
    expect(csp).not.toContain("script-src");
    expect(email.headers.get("x-frame-options")).toBe("SAMEORIGIN");
    const api = await (await server.api(`/api/reports/${scheduleId}/preview`)).text();
    expect(await email.text()).toBe(api);
  });

  it("needs a session", async () => {
    for (const path of [`/reports/${scheduleId}/preview`, `/reports/${scheduleId}/preview/email`]) {
      const res = await fetch(server.url + path, { redirect: "manual" });
      expect(res.status, path).toBe(302);
    }
  });
});

describe("edit and enable/disable", () => {
  it("the edit form is filled with the schedule and saves through the API's validator", async () => {
    const page = await (await user.get(`/reports/${scheduleId}/edit`)).text();
    expect(page).toContain('value="Finance monthly"');
    expect(page).toContain("finance@example.com</textarea>");
    expect(page).toContain(`action="/reports/${scheduleId}/edit"`);

    const bad = await user.post(`/reports/${scheduleId}/edit`, { ...form, recipients: "not-an-address", _csrf: user.csrf });
    const badPage = await bad.text();
    expect(bad.status, badPage).toBe(400);
    expect(badPage).toContain("recipients");
    expect(badPage).toContain("not-an-address</textarea>");

    const res = await user.post(`/reports/${scheduleId}/edit`, { ...form, recipients: "finance@example.com, cfo@example.com", team: "search", _csrf: user.csrf });
    expect(res.status, await res.text()).toBe(303);
    expect(res.headers.get("location")).toBe("/reports?done=updated");
    const api = (await (await server.api(`/api/reports/${scheduleId}`)).json()) as { recipients: string[]; filter: unknown };
    expect(api.recipients).toEqual(["finance@example.com", "cfo@example.com"]);
    expect(api.filter).toEqual({ team: "search" });
  });

  it("an edit without the CSRF token is refused", async () => {
    const res = await user.post(`/reports/${scheduleId}/edit`, { ...form, name: "hijacked" });
    expect(res.status).toBe(403);
  });

  it("disables and enables from the table", async () => {
    const off = await user.post(`/reports/${scheduleId}/enabled`, { enabled: "0", _csrf: user.csrf });
    expect(off.status, await off.text()).toBe(303);
    expect(((await (await server.api(`/api/reports/${scheduleId}`)).json()) as { enabled: boolean }).enabled).toBe(false);
    const page = await (await user.get("/reports?done=disabled")).text();
    expect(page).toContain('<p class="notice ok" role="status">Schedule disabled');
    expect(page).toMatch(/name="enabled" value="1"\/><button type="submit" class="outline secondary">Enable<\/button>/);

    const on = await user.post(`/reports/${scheduleId}/enabled`, { enabled: "1", _csrf: user.csrf });
    expect(on.status).toBe(303);
    expect(((await (await server.api(`/api/reports/${scheduleId}`)).json()) as { enabled: boolean }).enabled).toBe(true);
  });
});

describe("a delivery kept unsent", () => {
  let deliveryId: number;

  it("without SMTP_URL it opens, with its email, and says how to send it", async () => {
    const sent = await user.post(`/reports/${scheduleId}/send`, { _csrf: user.csrf });
    deliveryId = Number(/delivery=(\d+)/.exec(sent.headers.get("location") ?? "")?.[1]);
    expect(deliveryId).toBeGreaterThan(0);
    const list = await (await user.get("/reports")).text();
    expect(list).toContain(`href="/reports/delivery/${deliveryId}"`);

    const page = await (await user.get(`/reports/delivery/${deliveryId}`)).text();
    expect(page).toContain(`src="/reports/delivery/${deliveryId}/email"`);
    expect(page).toContain("SMTP_URL is not set");
    expect(page).not.toContain("Send it now");
    const email = await user.get(`/reports/delivery/${deliveryId}/email`);
    expect(email.status).toBe(200);
    expect(await email.text()).toContain("Finance monthly");
    // Sending without SMTP does nothing but show the delivery again.
    const refused = await user.post(`/reports/delivery/${deliveryId}/send`, { _csrf: user.csrf });
    expect(refused.headers.get("location")).toBe(`/reports/delivery/${deliveryId}`);
  });

  it("after a restart with SMTP_URL it is sent once from its page", async () => {
    await server.stop(); // its own temp folder; the shared database file stays
    await start({ SMTP_URL: sink.url });
    const page = await (await user.get(`/reports/delivery/${deliveryId}`)).text();
    expect(page).toContain(`action="/reports/delivery/${deliveryId}/send"`);
    expect(page).toContain("Send it now");

    expect((await user.post(`/reports/delivery/${deliveryId}/send`, {})).status).toBe(403);
    const res = await user.post(`/reports/delivery/${deliveryId}/send`, { _csrf: user.csrf });
    expect(res.status, await res.text()).toBe(303);
    expect(res.headers.get("location")).toBe(`/reports?done=sent&delivery=${deliveryId}`);
    expect(sink.messages).toHaveLength(1);
    expect(sink.messages[0]!.subject).toContain("Oct 2026");
    expect(sink.messages[0]!.to).toMatchObject({ text: "finance@example.com, cfo@example.com" });
    expect(await (await user.get(res.headers.get("location")!)).text()).toContain('<p class="notice ok" role="status">Report sent.');

    const api = (await (await server.api(`/api/reports/${scheduleId}/deliveries`)).json()) as { data: { id: number; status: string; last_error: string | null }[] };
    expect(api.data.find((d) => d.id === deliveryId)).toMatchObject({ status: "sent", last_error: null });
    // A second click finds it sent: nothing more goes out.
    await user.post(`/reports/delivery/${deliveryId}/send`, { _csrf: user.csrf });
    expect(sink.messages).toHaveLength(1);
  });
});
