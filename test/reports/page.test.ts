import { describe, expect, it } from "vitest";
import { useSignedInServer } from "../pages/page-client.ts";
import { QUIET_CRON } from "./report-fixtures.ts";

// The /reports page: schedules with their next run, recent deliveries with their status and
// error (here "not sent: no SMTP configured"), and a CSRF-protected form that validates like
// POST /api/reports.

const now = Date.parse("2026-11-25T10:00:00Z");

const app = useSignedInServer({ ...QUIET_CRON }, { now: () => now });

const form = {
  name: "Finance <monthly>",
  kind: "spend",
  period: "monthly",
  send_at: "09:00",
  timezone: "Europe/London",
  recipients: "finance@example.com, cfo@example.com",
  team: "",
  project: "",
  model: "",
  enabled: "on",
};

describe("/reports", () => {
  it("adds a schedule from the form, then shows it with its next run", async () => {
    const res = await app.user.post("/reports", { ...form, _csrf: app.user.csrf });
    expect(res.status, await res.text()).toBe(303);
    expect(res.headers.get("location")).toBe("/reports?done=created");
    // Success in the success style, not the orange warning one.
    expect(await (await app.user.get("/reports?done=created")).text()).toContain('<p class="notice ok" role="status">Schedule added.</p>');
    const page = await (await app.user.get("/reports")).text();
    expect(page).toContain("Finance &lt;monthly&gt;");
    expect(page).toContain("finance@example.com, cfo@example.com");
    expect(page).toContain('datetime="2026-12-01T09:00:00.000Z"');
    const api = (await (await app.server.api("/api/reports")).json()) as { data: { name: string; recipients: string[] }[] };
    expect(api.data.find((s) => s.name === "Finance <monthly>")?.recipients).toEqual(["finance@example.com", "cfo@example.com"]);
  });

  it("shows a validation error naming the field and keeps what was typed", async () => {
    const res = await app.user.post("/reports", { ...form, timezone: "Europe/Lundon", _csrf: app.user.csrf });
    const page = await res.text();
    expect(res.status, page).toBe(400);
    expect(page).toContain("timezone: must be an IANA time zone name");
    expect(page).toContain('value="Europe/Lundon"');
  });

  it("refuses a post without the CSRF token", async () => {
    const res = await app.user.post("/reports", form);
    expect(res.status, await res.text()).toBe(403);
  });

  it("send now without SMTP: the delivery shows as not sent, with the reason", async () => {
    const { data } = (await (await app.server.api("/api/reports")).json()) as { data: { id: number }[] };
    const res = await app.user.post(`/reports/${data[0]!.id}/send`, { _csrf: app.user.csrf });
    expect(res.status, await res.text()).toBe(303);
    const location = res.headers.get("location") ?? "";
    expect(location).toMatch(/^\/reports\?done=sent&delivery=\d+$/);
    const page = await (await app.user.get(location)).text();
    // The message says what happened to this delivery, in the warning style, never "Report sent".
    expect(page).toContain('<p class="notice warn" role="status">Report not sent: SMTP_URL is not configured.');
    expect(page).not.toContain("Report sent");
    expect(page).toContain("not sent: no SMTP configured");
    expect(page).toContain("SMTP_URL is not set");
    expect(page).toContain("Oct 2026");
  });

  it("needs a session", async () => {
    const res = await fetch(`${app.server.url}/reports`, { redirect: "manual" });
    expect(res.status).toBe(302);
  });
});
