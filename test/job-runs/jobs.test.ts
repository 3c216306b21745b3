import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runRetention } from "../../jobs/retention.ts";
import { startScheduler } from "../../jobs/scheduler.ts";
import { loadConfig } from "../../server/config.ts";
import { createLogger } from "../../server/log.ts";
import { startTestServer, waitFor, type TestServer } from "../harness.ts";
import { runJobCli } from "../usage/run-cli.ts";
import { fixedClock, getJson, recordCalls, spendCall } from "../usage/spend-fixtures.ts";
import { sql } from "drizzle-orm";
import { notRolledUp } from "../../server/usage/rollups/not-rolled-up.ts";
import { rollUpAll, untilRollupCanTakeAll } from "../pg/rollup-ready.ts";

// Jobs: every run logged in job_runs and listed by GET /api/jobs; the CLI; retention of bodies
// and calls; the cron scheduler's wiring.

const DAY = 86_400_000;

describe("jobs", () => {
  const clock = fixedClock("2025-06-01T00:00:00Z");
  let server: TestServer;
  const env = () => ({ DATABASE_URL: server.config.DATABASE_URL });
  /** COUNT(*) of rows matching `where`, on either engine. */
  const count = async (table: string, where = sql`1 = 1`) => Number((await server.db.get<{ n: number | string }>(sql`SELECT COUNT(*) AS n FROM ${sql.identifier(table)} WHERE ${where}`))!.n);

  beforeAll(async () => {
    server = await startTestServer({}, clock);
  });
  afterAll(async () => {
    await server?.stop();
  });

  it("logs each run (start, end, rows) and lists the latest first with pages", async () => {
    await recordCalls(server, [spendCall(), spendCall()]);
    await rollUpAll(server.db, clock.now());
    clock.set(clock.now() + 60_000);
    await rollUpAll(server.db, clock.now());
    const first = await getJson(server, "/api/jobs?limit=1");
    expect(first.data).toEqual([
      expect.objectContaining({ job: "rollup", started_at: "2025-06-01T00:01:00.000Z", rows: 0, error: null, status: "ok" }),
    ]);
    const second = await getJson(server, `/api/jobs?limit=1&cursor=${first.next_cursor}`);
    expect(second.data[0]).toMatchObject({ job: "rollup", started_at: "2025-06-01T00:00:00.000Z", rows: 2 });
    expect(second.data[0].finished_at >= second.data[0].started_at).toBe(true);
    expect((await server.api("/api/jobs?limit=0")).status).toBe(400);
  });

  it("retention deletes old bodies, and old calls only once rolled up; totals stay", async () => {
    const now = clock.now();
    const old = (days: number, body = true) => ({
      call: spendCall({ createdAt: now - days * DAY, status: 500, errorType: "upstream_error" }),
      ...(body ? { bodies: { request: "{}", response: "{}", truncated: false } } : {}),
    });
    const target = server.recorder.recorded + 3;
    for (const rec of [old(10), old(45), old(500)]) server.recorder.enqueue(rec);
    await new Promise<void>((r) => {
      const t = setInterval(() => {
        if (server.recorder.recorded < target) return;
        clearInterval(t);
        r();
      }, 5);
    });
    await untilRollupCanTakeAll(server.db);
    const usageBefore = await getJson(server, "/api/usage?from=2020-01-01&to=2026-01-01&group_by=month");
    const result = await runRetention(server.db, now, { bodiesDays: 30, callsDays: 400 });
    expect(result).toMatchObject({ bodiesDeleted: 2, callsDeleted: 1 });
    expect(await count("call_bodies")).toBe(1);
    expect(await getJson(server, "/api/usage?from=2020-01-01&to=2026-01-01&group_by=month")).toEqual(usageBefore);
    const runs = await getJson(server, "/api/jobs?limit=2");
    expect(runs.data.map((r: { job: string }) => r.job)).toEqual(["retention", "rollup"]); // retention rolls up first
  });

  it("runs rollup, rollup --rebuild and retention from the command line with one line of output", async () => {
    await recordCalls(server, [spendCall({ createdAt: Date.parse("2025-05-30T00:00:00Z") })]);
    await untilRollupCanTakeAll(server.db);
    const rollup = await runJobCli(["rollup"], env());
    expect(rollup.code, rollup.stderr).toBe(0);
    expect(rollup.stdout).toMatch(/^rollup: 1 calls rolled up, watermark \d+\n$/);
    const rebuild = await runJobCli(["rollup", "--rebuild"], env());
    expect(rebuild.code, rebuild.stderr).toBe(0);
    expect(rebuild.stdout).toMatch(/^rollup --rebuild: \d+ calls re-aggregated from \S+Z, watermark \d+\n$/);
    const retention = await runJobCli(["retention"], env());
    expect(retention.code, retention.stderr).toBe(0);
    expect(retention.stdout).toMatch(/^retention: \d+ bodies deleted \(before \S+\), \d+ calls deleted \(before \S+\)\n$/);
  }, 120_000); // three child processes, each loading tsx: slow on a busy 2-core machine

  it("explains its usage on a wrong command line (exit 2)", async () => {
    for (const args of [["rollp"]]) {
      const r = await runJobCli(args, env());
      expect(r.code).toBe(2);
      expect(r.stderr).toContain("usage: npm run job --");
    }
  });

  it("schedules the jobs from the config's cron expressions and stops them", async () => {
    const config = loadConfig({ DATABASE_URL: server.config.DATABASE_URL, ROLLUP_CRON: "* * * * * *" }); // every second
    const runs = () => count("job_runs", sql`job = 'rollup'`);
    const pending = async () => count("calls", await notRolledUp(server.db));
    await recordCalls(server, [spendCall(), spendCall(), spendCall()]);
    expect(await pending()).toBe(3);
    const runsBefore = await runs();
    const scheduler = startScheduler({ db: server.db, config, clock, log: createLogger("error") });
    // The first tick rolls the three calls up and is logged; the quiet ticks after it are not.
    await waitFor(async () => (await pending()) === 0, 10_000);
    await new Promise((r) => setTimeout(r, 2_200));
    expect(await runs()).toBe(runsBefore + 1);
    await recordCalls(server, [spendCall()]);
    await waitFor(async () => (await pending()) === 0, 10_000);
    expect(await runs()).toBe(runsBefore + 2);
    await scheduler.stop();
    const runsAfter = await runs();
    await recordCalls(server, [spendCall()]);
    await new Promise((r) => setTimeout(r, 1_300));
    expect(await runs()).toBe(runsAfter); // stopped: the new call stays past the watermark
    expect(await pending()).toBe(1);
    // A bad expression never reaches the scheduler: the config refuses it before the database is opened.
    expect(() => loadConfig({ DATABASE_URL: server.config.DATABASE_URL, RETENTION_CRON: "every day" })).toThrow("invalid config: RETENTION_CRON: must be a cron expression");
  });
});
