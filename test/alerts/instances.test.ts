import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startServer, type RunningServer } from "../../server/start.ts";
import { makeCall } from "../factories.ts";
import { startTestServer, waitFor, type TestServer } from "../harness.ts";
import { QUIET_CRON } from "../reports/report-fixtures.ts";
import { startWebhookReceiver, type WebhookReceiver } from "./webhook-receiver.ts";

// Two tollbooth processes on one SQLite file, each running the alerts job every second from its
// own writer thread (real cron, real threads, real time), and one of them restarted while its
// alert is firing: the crossing is sent once and its resolution once, by whichever process claims
// it first.

const SECRET = "whsec-instances-0123456789";
const CRON = { CRON_ENABLED: "true", ALERTS_CRON: "* * * * * *", ROLLUP_CRON: "*/5 * * * * *", ...QUIET_CRON };
let a: TestServer;
let b: RunningServer;
let hook: WebhookReceiver;

beforeAll(async () => {
  hook = await startWebhookReceiver(SECRET);
  a = await startTestServer(CRON);
  b = await startServer({ ...a.config });
});
afterAll(async () => {
  await b?.close();
  await a?.stop();
  await hook?.close();
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const record = async (server: RunningServer, n: number, overrides: Parameters<typeof makeCall>[0]) => {
  for (let i = 0; i < n; i++) server.recorder.enqueue({ call: makeCall({ createdAt: Date.now() - 1_000, ...overrides }) });
  expect(await server.recorder.flushed()).toBe(true);
};

describe("alerts across processes", () => {
  it("fire once and resolve once with two processes ticking every second and one restarted in between", async () => {
    const res = await a.api("/api/alerts", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ kind: "error_rate", threshold: 50, window_minutes: 5, channels: [{ type: "webhook", url: `${hook.url}/rate`, secret: SECRET }] }),
    });
    expect(res.status).toBe(201);
    await record(b, 12, { status: 500, errorType: "upstream_error" });
    await waitFor(() => hook.received.length >= 1, 10_000);
    await sleep(2_500); // both processes tick at least twice more

    // Restart b while the alert is firing: the new process reads the state back, sends nothing.
    await b.close();
    b = await startServer({ ...a.config });
    await sleep(2_500);
    expect(hook.received.map((r) => r.body.status)).toEqual(["fired"]);

    await record(a, 40, {}); // 12 of 52 failed: 23 %, under 50 %
    await waitFor(() => hook.received.length >= 2, 10_000);
    await sleep(2_500);
    expect(hook.received.map((r) => [r.body.status, r.body.error_rate_percent])).toEqual([
      ["fired", 100],
      ["resolved", 23.08],
    ]);
    expect(new Set(hook.received.map((r) => r.event)).size).toBe(2);
    expect(hook.refused).toBe(0);
  });
});
