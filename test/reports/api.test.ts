import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestServer, type TestServer } from "../harness.ts";
import { QUIET_CRON } from "./report-fixtures.ts";
import { startSmtpSink, type SmtpSink } from "./smtp-sink.ts";

// /api/reports: schedule CRUD with validation that names the field, send-now, preview and the
// delivery log. The clock is pinned; the SMTP server is real.

let server: TestServer;
let sink: SmtpSink;
const now = Date.parse("2026-11-25T10:00:00Z");

beforeAll(async () => {
  sink = await startSmtpSink();
  server = await startTestServer({ SMTP_URL: sink.url, PUBLIC_URL: "https://tollbooth.example.com", ...QUIET_CRON }, { now: () => now });
});
afterAll(async () => {
  await server?.stop();
  await sink?.close();
});

const valid = {
  name: "Finance monthly",
  kind: "spend",
  period: "monthly",
  send_at: "09:00",
  timezone: "Europe/London",
  recipients: ["finance@example.com"],
  filter: { team: "ml" },
  enabled: true,
};

function send(method: string, path: string, body?: unknown) {
  return server.api(path, {
    method,
    headers: { "content-type": "application/json" },
    body: body === undefined ? undefined : typeof body === "string" ? body : JSON.stringify(body),
  });
}

async function json<T = Record<string, unknown>>(res: Response, status: number): Promise<T> {
  const text = await res.text();
  expect(res.status, text).toBe(status);
  return JSON.parse(text) as T;
}

describe("POST /api/reports", () => {
  it("stores the schedule and answers 201 with its id and next_run_at (ISO UTC)", async () => {
    const created = await json(await send("POST", "/api/reports", valid), 201);
    expect(created).toMatchObject({ ...valid, next_run_at: "2026-12-01T09:00:00.000Z", created_at: "2026-11-25T10:00:00.000Z" });
    expect(created.id).toEqual(expect.any(Number));
    const fetched = await json(await server.api(`/api/reports/${created.id}`), 200);
    expect(fetched).toEqual(created);
  });

  it("defaults filter to null and enabled to true", async () => {
    const { filter: _f, enabled: _e, ...minimal } = valid;
    expect(await json(await send("POST", "/api/reports", minimal), 201)).toMatchObject({ filter: null, enabled: true });
  });

  it.each<[string, unknown, string]>([
    ["empty name", { ...valid, name: " " }, "name:"],
    ["unknown kind", { ...valid, kind: "invoice" }, "kind:"],
    ["unknown period", { ...valid, period: "hourly" }, "period:"],
    ["send_at without leading zero", { ...valid, send_at: "9:00" }, "send_at:"],
    ["send_at 24:00", { ...valid, send_at: "24:00" }, "send_at:"],
    ["unknown zone", { ...valid, timezone: "Mars/Olympus_Mons" }, "timezone:"],
    ["no recipients", { ...valid, recipients: [] }, "recipients:"],
    ["a bad address", { ...valid, recipients: ["finance@example.com", "not an address"] }, "recipients.1:"],
    ["a header injection in an address", { ...valid, recipients: ["a@example.com\r\nBcc: x@evil.test"] }, "recipients.0:"],
    ["recipients as a string", { ...valid, recipients: "finance@example.com" }, "recipients:"],
    ["an empty filter value", { ...valid, filter: { team: "" } }, "filter.team:"],
    ["a line break in a filter value (it goes into the subject)", { ...valid, filter: { team: "ml\r\nBcc: x@evil.test" } }, "filter.team:"],
    ["an unknown filter key", { ...valid, filter: { teem: "ml" } }, "filter.teem: unknown field"],
    ["an unknown field", { ...valid, recipient: "x@example.com" }, "recipient: unknown field"],
    ["enabled as a string", { ...valid, enabled: "yes" }, "enabled:"],
    ["a missing field", { ...valid, kind: undefined }, "kind:"],
    ["not JSON", "{nope", "body:"],
    ["not an object", "[1]", "body:"],
  ])("400 naming the field: %s", async (_name, body, field) => {
    const { error } = await json<{ error: { message: string; type: string } }>(await send("POST", "/api/reports", body), 400);
    expect(error.type).toBe("invalid_request_error");
    expect(error.message.startsWith(field), error.message).toBe(true);
  });

  it("needs the admin token", async () => {
    const res = await fetch(`${server.url}/api/reports`, { method: "POST", body: JSON.stringify(valid) });
    expect(res.status, await res.text()).toBe(401);
  });
});

describe("GET, PATCH and DELETE /api/reports/:id", () => {
  it("lists, updates (next_run_at follows) and deletes", async () => {
    const { id } = await json<{ id: number }>(await send("POST", "/api/reports", { ...valid, name: "daily digest", kind: "failures", period: "daily", send_at: "08:00" }), 201);
    const list = await json<{ data: { id: number }[] }>(await server.api("/api/reports"), 200);
    expect(list.data.map((s) => s.id)).toContain(id);

    const patched = await json(await send("PATCH", `/api/reports/${id}`, { send_at: "11:30", timezone: "Asia/Kolkata" }), 200);
    // 10:00 UTC is 15:30 in Kolkata, past 11:30: next is tomorrow 11:30 IST = 06:00 UTC.
    expect(patched).toMatchObject({ send_at: "11:30", timezone: "Asia/Kolkata", next_run_at: "2026-11-26T06:00:00.000Z", name: "daily digest" });

    const disabled = await json(await send("PATCH", `/api/reports/${id}`, { enabled: false }), 200);
    expect(disabled).toMatchObject({ enabled: false, next_run_at: null });

    expect(await json(await send("DELETE", `/api/reports/${id}`), 200)).toEqual({ id, deleted: true });
    await json(await server.api(`/api/reports/${id}`), 404);
  });

  it.each<[string, string, unknown, string]>([
    ["a non-numeric id", "/api/reports/abc", { name: "x" }, "id:"],
    ["an empty patch", "/api/reports/1", {}, "body:"],
    ["an unknown field", "/api/reports/1", { sendAt: "09:00" }, "sendAt: unknown field"],
    ["a bad zone", "/api/reports/1", { timezone: "Europe/Londn" }, "timezone:"],
  ])("PATCH 400 naming the field: %s", async (_name, path, body, field) => {
    const { error } = await json<{ error: { message: string } }>(await send("PATCH", path, body), 400);
    expect(error.message.startsWith(field), error.message).toBe(true);
  });

  it("404 for a schedule that does not exist", async () => {
    await json(await server.api("/api/reports/999999"), 404);
    await json(await send("POST", "/api/reports/999999/send"), 404);
  });
});

describe("send now, preview and the delivery log", () => {
  it("sends the last complete period, or a given range, and lists each delivery", async () => {
    const { id } = await json<{ id: number }>(await send("POST", "/api/reports", { ...valid, filter: null, recipients: ["a@example.com", "b@example.com"] }), 201);
    sink.messages.length = 0;

    const last = await json(await send("POST", `/api/reports/${id}/send`), 200);
    expect(last).toMatchObject({ status: "sent", trigger: "manual", attempts: 1, period_start: "2026-09-30T23:00:00.000Z", period_end: "2026-11-01T00:00:00.000Z" });
    const custom = await json(await send("POST", `/api/reports/${id}/send`, { from: "2026-11-10", to: "2026-11-17" }), 200);
    expect(custom).toMatchObject({ status: "sent", period_start: "2026-11-10T00:00:00.000Z", period_end: "2026-11-17T00:00:00.000Z" });

    expect(sink.messages.map((m) => m.subject)).toEqual([expect.stringMatching(/^Spend report Oct 2026: /), expect.stringMatching(/^Spend report 10 Nov 2026, 00:00 – 17 Nov 2026, 00:00: /)]);
    const to = sink.messages[0]!.to;
    expect(to && "text" in to ? to.text : "").toBe("a@example.com, b@example.com");
    expect(sink.messages[0]!.attachments.map((a) => a.filename)).toEqual(["tollbooth-spend-2026-10.csv"]);

    const page1 = await json<{ data: { id: number; status: string }[]; next_cursor: string | null }>(await server.api(`/api/reports/${id}/deliveries?limit=1`), 200);
    expect(page1.data).toHaveLength(1);
    expect(page1.data[0]!.id).toBe(custom.id);
    const page2 = await json<{ data: { id: number }[] }>(await server.api(`/api/reports/${id}/deliveries?limit=1&cursor=${page1.next_cursor}`), 200);
    expect(page2.data[0]!.id).toBe(last.id);

    // Any instant, e.g. a script's `date -u +%FT%TZ`: answered exactly, not refused.
    const instant = await json(await send("POST", `/api/reports/${id}/send`, { from: "2026-11-10T00:07:13.250Z", to: "2026-11-17T09:41:02Z" }), 200);
    expect(instant).toMatchObject({ status: "sent", period_start: "2026-11-10T00:07:13.250Z", period_end: "2026-11-17T09:41:02.000Z" });
  });

  it.each<[string, unknown, string]>([
    ["only from", { from: "2026-11-10" }, "to:"],
    ["a time without a zone", { from: "2026-11-10T00:07:00", to: "2026-11-11" }, "from:"],
    ["from after to", { from: "2026-11-12", to: "2026-11-11" }, "from:"],
    ["an unknown field", { start: "2026-11-10" }, "start: unknown field"],
  ])("send 400 naming the field: %s", async (_name, body, field) => {
    const { id } = await json<{ id: number }>(await send("POST", "/api/reports", valid), 201);
    const { error } = await json<{ error: { message: string } }>(await send("POST", `/api/reports/${id}/send`, body), 400);
    expect(error.message.startsWith(field), error.message).toBe(true);
  });

  it("reports an SMTP refusal as 502 and keeps the failed row with the error", async () => {
    const { id } = await json<{ id: number }>(await send("POST", "/api/reports", valid), 201);
    sink.refuse(1, 550);
    const { error } = await json<{ error: { message: string } }>(await send("POST", `/api/reports/${id}/send`), 502);
    expect(error.message).toContain("550");
    const { data } = await json<{ data: { status: string; last_error: string; next_attempt_at: string | null }[] }>(await server.api(`/api/reports/${id}/deliveries`), 200);
    expect(data[0]).toMatchObject({ status: "failed", next_attempt_at: null });
    expect(data[0]!.last_error).toContain("550");
  });

  it("previews the HTML without sending, under a CSP that forbids scripts", async () => {
    const { id } = await json<{ id: number }>(await send("POST", "/api/reports", valid), 201);
    sink.messages.length = 0;
    const res = await server.api(`/api/reports/${id}/preview`);
    const html = await res.text();
    expect(res.status, html).toBe(200);
    expect(res.headers.get("content-type")).toContain("text/html");
    expect(res.headers.get("content-security-policy")).toContain("default-src 'none'");
    expect(html).toMatch(/^<!DOCTYPE html><html lang="en">/);
    expect(html).toContain("Spend report · Oct 2026");
    expect(sink.messages).toHaveLength(0);
    const { data } = await json<{ data: unknown[] }>(await server.api(`/api/reports/${id}/deliveries`), 200);
    expect(data).toEqual([]);
    await json(await server.api(`/api/reports/${id}/preview?from=2026-11-01`), 400);
  });
});

describe("without SMTP_URL", () => {
  it("send keeps the rendered report as not sent", async () => {
    const bare = await startTestServer({ ...QUIET_CRON }, { now: () => now });
    try {
      const res = await bare.api("/api/reports", { method: "POST", body: JSON.stringify(valid) });
      const { id } = (await res.json()) as { id: number };
      const sent = await bare.api(`/api/reports/${id}/send`, { method: "POST" });
      const body = await sent.text();
      expect(sent.status, body).toBe(200);
      expect(JSON.parse(body)).toMatchObject({ status: "not_sent", last_error: "not sent: no SMTP configured", subject: expect.stringMatching(/^Spend report Oct 2026/) });
    } finally {
      await bare.stop();
    }
  });
});
