import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Agent, request } from "undici";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { connectDatabase } from "../../server/db/connect.ts";
import { parseScheduleInput } from "../../server/reports/schedule-input.ts";
import { createSchedule } from "../../server/reports/schedules-store.ts";
import { startFakeUpstream, type FakeUpstream } from "../fake-upstream.ts";
import { TEST_ADMIN_TOKEN, waitFor } from "../harness.ts";
import { queryPostgres, testDatabaseUrl } from "../pg/database.ts";
import { CALLER_KEY, chatBody } from "../proxy/proxy-harness.ts";
import { startSmtpSink, type SmtpSink } from "../reports/smtp-sink.ts";
import { startServerProcess, type ServerProcess } from "../server-process.ts";

// Three real tollbooth processes on one PostgreSQL database, every scheduler switched on, 3,000
// calls spread over them (a third streaming, one in ten failing upstream). Mid-load one instance
// gets SIGTERM (it drains and exits) and one gets SIGKILL (its journal is left behind and a
// survivor, sharing the data folder, replays it). Afterwards: every call whose response a client
// saw is recorded exactly once, the rollups equal the raw sums, and each report period was
// emailed once.

const CALLS = 3_000;
const CONNECTIONS = 24;
const DAY = 86_400_000;

let url: string;
let dir: string;
let upstream: FakeUpstream;
let sink: SmtpSink;
const procs: ServerProcess[] = [];

beforeAll(async () => {
  url = await testDatabaseUrl("instances");
  dir = mkdtempSync(join(tmpdir(), "tollbooth-instances-"));
  upstream = await startFakeUpstream({ recordRequests: false });
  sink = await startSmtpSink();
});
afterAll(async () => {
  for (const p of procs) p.child.kill("SIGTERM");
  await Promise.all(procs.map((p) => p.exited));
  await upstream?.close();
  await sink?.close();
  rmSync(dir, { recursive: true, force: true });
});

function start(): ServerProcess {
  const p = startServerProcess({
    DATABASE_URL: url,
    DATA_DIR: dir,
    ADMIN_TOKEN: TEST_ADMIN_TOKEN,
    UPSTREAM_BASE_URL: upstream.url,
    SMTP_URL: sink.url,
    ROLLUP_CRON: "*/2 * * * * *",
    REPORTS_CRON: "* * * * * *",
    PG_POOL_MAX: "6",
    CRON_ENABLED: "true",
  });
  procs.push(p);
  return p;
}

const query = <T>(text: string): Promise<T[]> => queryPostgres<T>(url, text);

/** Calls spread round-robin over the live instances; ids of the calls whose whole 200 arrived. */
function traffic(bases: () => string[]) {
  const agent = new Agent({ connections: CONNECTIONS, pipelining: 1 });
  const seen: string[] = [];
  let next = 0;
  let answered = 0;
  const worker = async () => {
    for (;;) {
      const i = next++;
      if (i >= CALLS) return;
      const live = bases();
      const base = live[i % live.length]!;
      const stream = i % 3 === 0;
      const failing = i % 10 === 7;
      try {
        const res = await request(`${base}/v1/chat/completions`, {
          method: "POST",
          dispatcher: agent,
          headers: {
            authorization: `Bearer ${CALLER_KEY}`,
            "content-type": "application/json",
            "x-tollbooth-team": `team-${i % 4}`,
            ...(failing ? { "x-fake-scenario": "status-503" } : { "x-fake-chunk-delay-ms": "2" }),
          },
          body: JSON.stringify(chatBody({ stream })),
        });
        const text = await res.body.text();
        answered++;
        const id = res.headers["x-tollbooth-request-id"];
        const whole = !stream || failing || text.includes("[DONE]");
        if (typeof id === "string" && whole && (res.statusCode === 200 || res.statusCode === 503)) seen.push(id);
      } catch {
        // the instance went away under this call: the client saw no response
      }
    }
  };
  const done = Promise.all(Array.from({ length: CONNECTIONS }, () => worker()));
  return { seen, answered: () => answered, done: done.then(() => agent.close()) };
}

describe("three instances on one PostgreSQL", () => {
  it("lose no call and count none twice through a SIGTERM and a SIGKILL, and email each report period once", async () => {
    const first = start();
    const a = await first.url; // migrates before the others start
    const [second, third] = [start(), start()];
    const [b, c] = await Promise.all([second.url, third.url]);

    // A daily report active since three days ago: its missed periods are due now, on all three schedulers.
    const db = await connectDatabase(url, { poolMax: 1, migrate: false });
    const input = parseScheduleInput({ name: "daily spend", kind: "spend", period: "daily", send_at: "00:00", timezone: "UTC", recipients: ["finance@example.com"] });
    await createSchedule(db, input, Date.now() - 3 * DAY);
    await db.close();

    let live = [a, b, c];
    const load = traffic(() => live);
    await waitFor(() => load.answered() >= CALLS / 3, 120_000);
    // SIGTERM: the instance drains its calls in flight and exits cleanly.
    live = [a, c];
    second.child.kill("SIGTERM");
    await waitFor(() => load.answered() >= (CALLS * 2) / 3, 120_000);
    // SIGKILL: rows not yet committed stay in its journal, for a survivor to replay.
    live = [a];
    third.child.kill("SIGKILL");
    await load.done;
    expect(await second.exited, second.log()).toBe(0);
    await third.exited;

    const seen = new Set(load.seen);
    expect(seen.size).toBeGreaterThan(CALLS * 0.9);
    type Row = { request_id: string };
    const rowsOf = () => query<Row>("SELECT request_id FROM calls");
    await waitFor(async () => {
      const ids = new Set((await rowsOf()).map((r) => r.request_id));
      return [...seen].every((id) => ids.has(id));
    }, 60_000);
    const rows = await rowsOf();
    const ids = new Set(rows.map((r) => r.request_id));
    expect([...seen].filter((id) => !ids.has(id)), "calls a client saw that are not recorded").toEqual([]);
    expect(rows.length, "no call recorded twice").toBe(ids.size);

    // Rollups catch up with the raw rows and agree with them, figure for figure.
    type Sums = { requests: string; prompt: string; completion: string; cost: string };
    const raw = async () =>
      (await query<Sums>("SELECT COUNT(*)::text AS requests, SUM(prompt_tokens)::text AS prompt, SUM(completion_tokens)::text AS completion, COALESCE(SUM(cost_nano), 0)::text AS cost FROM calls"))[0]!;
    const rolled = async () =>
      (
        await query<Sums>(
          "SELECT SUM(requests)::text AS requests, SUM(prompt_tokens)::text AS prompt, SUM(completion_tokens)::text AS completion, SUM(cost_nano)::text AS cost FROM rollup_every_dim_15m",
        )
      )[0]!;
    await waitFor(async () => (await rolled()).requests === (await raw()).requests, 60_000);
    expect(await rolled()).toEqual(await raw());

    // Each report period went out once, though three schedulers ticked every second.
    await waitFor(async () => (await query<{ n: string }>("SELECT COUNT(*)::text AS n FROM report_deliveries WHERE status = 'sent'"))[0]!.n !== "0", 30_000);
    await new Promise((r) => setTimeout(r, 2_000)); // more ticks, which must send nothing more
    const deliveries = await query<{ period_start: string; n: string }>("SELECT period_start::text, COUNT(*)::text AS n FROM report_deliveries GROUP BY period_start");
    expect(deliveries.every((d) => d.n === "1")).toBe(true);
    const sent = await query<{ n: string }>("SELECT COUNT(*)::text AS n FROM report_deliveries WHERE status = 'sent'");
    expect(sink.messages.length).toBe(Number(sent[0]!.n));
  }, 300_000);
});
