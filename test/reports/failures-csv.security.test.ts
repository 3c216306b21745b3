import { parse } from "csv-parse/sync";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { CallRecord } from "../../server/recorder/recorder.ts";
import { makeCall } from "../factories.ts";
import { startTestServer, type TestServer } from "../harness.ts";
import { QUIET_CRON } from "./report-fixtures.ts";
import { startSmtpSink, type SmtpSink } from "./smtp-sink.ts";

// The failures digest's CSV attachment opens in a spreadsheet. Its text columns come from
// outside: the model from the caller's request body, the error type and message from upstream.
// A cell starting with = + - @ (or tab / CR, which some spreadsheets strip first) would run as a
// formula, so it leaves with a leading ' (the same rule as /api/usage.csv).

const now = Date.parse("2026-12-02T10:00:00Z");
let server: TestServer;
let sink: SmtpSink;

type Call = Partial<CallRecord["call"]>;
const failed = (call: Call, day: number): Call => ({
  promptTokens: null,
  completionTokens: null,
  totalTokens: null,
  usageSource: "none",
  createdAt: Date.parse(`2026-11-${String(day).padStart(2, "0")}T09:00:00Z`),
  ...call,
});

// One group each (status + error type + model), newest message per group is the example.
const HOSTILE: { call: Call; cells: Record<string, string> }[] = [
  { call: { status: 400, errorType: "=1+1", model: "m-a", errorMessage: "@SUM(A1:A9)" }, cells: { error_type: "'=1+1", model: "m-a", example_error: "'@SUM(A1:A9)" } },
  { call: { status: 500, errorType: "server_error", model: '+HYPERLINK("https://evil.example","x")', errorMessage: "-2+3" }, cells: { error_type: "server_error", model: `'+HYPERLINK("https://evil.example","x")`, example_error: "'-2+3" } },
  { call: { status: 502, errorType: "-upstream", model: "m-b", errorMessage: "\t=cmd|' /C calc'!A0" }, cells: { error_type: "'-upstream", model: "m-b", example_error: "'\t=cmd|' /C calc'!A0" } },
  { call: { status: 503, errorType: "upstream_error", model: "@m-c", errorMessage: "\r=1+1" }, cells: { error_type: "upstream_error", model: "'@m-c", example_error: "'\r=1+1" } },
  // Harmless text stays as it is, a comma and a leading ' included.
  { call: { status: 429, errorType: "rate_limit_exceeded", model: "m-d", errorMessage: "'quoted', slow down = later" }, cells: { error_type: "rate_limit_exceeded", model: "m-d", example_error: "'quoted', slow down = later" } },
];

beforeAll(async () => {
  sink = await startSmtpSink();
  server = await startTestServer({ SMTP_URL: sink.url, ...QUIET_CRON }, { now: () => now });
  for (const [i, { call }] of HOSTILE.entries()) server.recorder.enqueue({ call: makeCall(failed(call, i + 2)) });
  expect(await server.recorder.flushed(), "recorder flush").toBe(true);
});
afterAll(async () => {
  await server?.stop();
  await sink?.close();
});

describe("failures digest CSV", () => {
  it("neutralises formula cells in error_type, model and example_error", async () => {
    const schedule = { name: "On-call", kind: "failures", period: "monthly", send_at: "09:00", timezone: "UTC", recipients: ["oncall@example.com"] };
    const created = await server.api("/api/reports", { method: "POST", body: JSON.stringify(schedule) });
    expect(created.status, await created.clone().text()).toBe(201);
    const { id } = (await created.json()) as { id: number };
    const sent = await server.api(`/api/reports/${id}/send`, { method: "POST" });
    expect(sent.status, await sent.text()).toBe(200);

    const attachment = sink.messages.at(-1)!.attachments[0]!;
    expect(attachment.filename).toMatch(/^tollbooth-failures-.*\.csv$/);
    const rows = parse(attachment.content.toString("utf8"), { columns: true, relax_column_count: false }) as Record<string, string>[];
    const byStatus = new Map(rows.map((r) => [r.status, r]));
    for (const { call, cells } of HOSTILE) {
      const row = byStatus.get(String(call.status));
      expect(row, `a row for status ${call.status}`).toBeDefined();
      expect({ error_type: row!.error_type, model: row!.model, example_error: row!.example_error }).toEqual(cells);
    }
    // Nothing in any cell would start a formula.
    for (const row of rows) for (const value of Object.values(row)) expect(value, JSON.stringify(row)).not.toMatch(/^[=+\-@\t\r]/);
  });
});
