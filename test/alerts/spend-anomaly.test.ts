import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runAlerts } from "../../jobs/alerts.ts";
import { makeCall } from "../factories.ts";
import { startTestServer, type TestServer } from "../harness.ts";
import { record } from "../pages/page-client.ts";
import { startSmtpSink, type SmtpSink } from "../reports/smtp-sink.ts";
import { rollUpAll } from "../pg/rollup-ready.ts";

// The spend-anomaly rule against real rollups, by email through a real SMTP server: the last
// hour's spend is compared with the median of the same wall-clock hour (Europe/London) in the
// past four weeks, across the change to summer time.

const NOW = Date.parse("2026-04-08T10:30:00Z"); // Wednesday 11:30 BST; the last hour is 10:30–11:30 local
const WEEK = 7 * 86_400_000;
const usd = (n: number) => n * 1_000_000_000;
let now = NOW;
let server: TestServer;
let sink: SmtpSink;

beforeAll(async () => {
  sink = await startSmtpSink();
  server = await startTestServer({ SMTP_URL: sink.url, REPORT_TZ: "Europe/London" }, { now: () => now });
});
afterAll(async () => {
  await server?.stop();
  await sink?.close();
});

const run = () => runAlerts(server.db, now, { smtpUrl: sink.url, from: "tollbooth@example.com", tz: "Europe/London" });
const events = async (id: number) => ((await (await server.api(`/api/alerts/${id}/events`)).json()) as { data: Array<Record<string, unknown>> }).data.map((e) => [e.transition, e.value]);

describe("spend_anomaly", () => {
  it("fires on an hour over N times the median of the same local hour in past weeks, and resolves when it passes", async () => {
    const res = await server.api("/api/alerts", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ kind: "spend_anomaly", threshold: 3, channels: [{ type: "email", to: ["oncall@example.com"] }] }),
    });
    const id = ((await res.json()) as { id: number }).id;
    expect(res.status).toBe(201);

    // Before any history, $5 in the last hour has nothing to be compared with.
    await record(server, { call: makeCall({ createdAt: NOW - 10 * 60_000, costNano: usd(5) }) });
    expect(await run()).toMatchObject({ fired: 0 });
    expect(await events(id)).toEqual([]);

    // The same local hour, 10:30–11:30, in each of the four weeks before: $1, except a $40 spike
    // a week ago (the median ignores it; a mean of $10.75 would hide today's $5). Weeks 2–4 were
    // still on GMT, so their hour is 10:30–11:30Z; the $50 at 10:00Z is the same *UTC* hour as
    // now, which a plain 7 × 24 h shift would read instead.
    await record(
      server,
      { call: makeCall({ createdAt: NOW - WEEK - 3_600_000 + 5 * 60_000, costNano: usd(40) }) }, // 09:35Z on 1 April = 10:35 BST
      ...[2, 3, 4].flatMap((k) => [
        { call: makeCall({ createdAt: NOW - k * WEEK + 5 * 60_000, costNano: usd(1) }) }, // 10:35Z = 10:35 GMT
        { call: makeCall({ createdAt: NOW - k * WEEK - 30 * 60_000, costNano: usd(50) }) }, // 10:00Z: outside the local hour
      ]),
    );
    await rollUpAll(server.db, now);
    expect(await run()).toMatchObject({ fired: 1, sent: 1 });
    expect(await run()).toMatchObject({ fired: 0, sent: 0 });
    expect(sink.messages.map((m) => m.subject)).toEqual(["tollbooth: spend in the last hour is 5× its usual rate"]);
    expect(sink.messages[0]!.text).toContain("usually costs $1.00 (median of 4 past weeks)");

    now = NOW + 2 * 3_600_000; // two quiet hours later
    expect(await run()).toMatchObject({ resolved: 1, sent: 1 });
    expect(await run()).toMatchObject({ resolved: 0, sent: 0 });
    expect(await events(id)).toEqual([
      ["resolved", "$0.00 in the last hour, no usual spend to compare with"],
      ["fired", "$5.00 in the last hour, 5× the usual $1.00"],
    ]);
  });
});
