import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startScheduler, type Scheduler } from "../../jobs/scheduler.ts";
import { loadConfig } from "../../server/config.ts";
import { connectDatabase } from "../../server/db/connect.ts";
import type { Db } from "../../server/db/database.ts";
import type { Logger } from "../../server/log.ts";
import { testDatabaseUrl } from "../pg/database.ts";
import { runJobCli } from "../usage/run-cli.ts";

// Three instances' schedulers, every job switched on, on one PostgreSQL database: the price sync
// fires every second on all three, and each tick reaches the upstream once and adds its price
// once. The upstream answers slowly, so the other instances' timers fire while one of them holds
// the tick.

const NEVER = "0 0 0 1 1 *"; // midnight on 1 January: the other jobs stay out of the count
let url: string;
let upstream: Server;
let baseUrl: string;
let modelsRequests = 0;

beforeAll(async () => {
  url = await testDatabaseUrl("schedulers");
  upstream = createServer((_req, res) => {
    modelsRequests++;
    // A new price on every request, so every run that reaches the upstream adds a row.
    const price = modelsRequests / 100;
    const body = JSON.stringify({ object: "list", data: [{ id: "acme/ticking", object: "model", pricing: { input: price, output: price } }] });
    setTimeout(() => res.writeHead(200, { "content-type": "application/json" }).end(body), 300);
  });
  await new Promise<void>((resolve) => upstream.listen(0, "127.0.0.1", resolve));
  baseUrl = `http://127.0.0.1:${(upstream.address() as AddressInfo).port}/v1`;
});
afterAll(() => new Promise((resolve) => upstream.close(resolve)));

/** A logger that keeps the lines of one instance. */
function captureLog(lines: string[]): Logger {
  const keep = (msg: string) => void lines.push(msg);
  return { debug: keep, info: keep, warn: keep, error: keep, enabled: () => true };
}

describe("schedulers of three instances on one PostgreSQL database", () => {
  it("run each price-sync tick once: one upstream request, one job run and one new price per tick", async () => {
    const config = loadConfig({
      DATABASE_URL: url,
      UPSTREAM_BASE_URL: baseUrl,
      UPSTREAM_API_KEY: "k",
      PRICES_SYNC_CRON: "* * * * * *", // every second
      ROLLUP_CRON: NEVER,
      RETENTION_CRON: NEVER,
      REPORTS_CRON: NEVER,
      ALERTS_CRON: NEVER,
    });
    const dbs: Db[] = [];
    const logs: string[][] = [];
    const schedulers: Scheduler[] = [];
    for (let i = 0; i < 3; i++) {
      const db = await connectDatabase(url, { poolMax: 2 });
      dbs.push(db);
      logs.push([]);
      schedulers.push(startScheduler({ db, config, clock: { now: () => Date.now() }, log: captureLog(logs[i]!) }));
    }
    await new Promise((r) => setTimeout(r, 4_600));
    for (const s of schedulers) await s.stop();
    await new Promise((r) => setTimeout(r, 400)); // a run the stop interrupted has answered by now

    const db = dbs[0]!;
    const runs = await db.all<{ rows: number | null; error: string | null }>(sql`SELECT "rows", error FROM job_runs WHERE job = 'prices-sync' ORDER BY id`);
    const prices = await db.get<{ n: number }>(sql`SELECT COUNT(*)::int AS n FROM prices WHERE model = 'acme/ticking'`);
    const finished = runs.filter((r) => r.rows !== null);
    expect(finished.length).toBeGreaterThanOrEqual(3);
    expect(finished.every((r) => r.rows === 1 && r.error === null)).toBe(true);
    // One upstream request per run, one new price per finished run: no tick ran twice.
    expect(modelsRequests).toBe(runs.length);
    expect(prices?.n).toBe(finished.length);
    // Every instance fired the ticks (one outcome line each), and no more runs happened than ticks.
    const outcomes = logs.map((lines) => lines.filter((l) => l.startsWith("job prices-sync")));
    for (const lines of outcomes) expect(lines.length).toBeGreaterThanOrEqual(3);
    expect(runs.length).toBeLessThanOrEqual(Math.max(...outcomes.map((lines) => lines.length)));
    const notRun = outcomes.flat().filter((l) => l === "job prices-sync tick not run here (done-elsewhere)").length;
    // (A timer that fires late on a busy machine can find the tick done, or miss it; so at least
    // one instance per tick, not exactly two.)
    expect(notRun).toBeGreaterThanOrEqual(finished.length);
    for (const d of dbs) await d.close();
  }, 30_000);

  it("a job run by hand (npm run job) works on PostgreSQL beside them", async () => {
    const before = modelsRequests;
    const db = await connectDatabase(url, { poolMax: 1 });
    const count = async () => (await db.get<{ n: number }>(sql`SELECT COUNT(*)::int AS n FROM prices WHERE model = 'acme/ticking'`))!.n;
    const pricesBefore = await count();
    const r = await runJobCli(["prices-sync"], { DATABASE_URL: url, UPSTREAM_BASE_URL: baseUrl, UPSTREAM_API_KEY: "k" });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toBe("prices-sync: 1 prices added, 0 unchanged, 0 kept (admin price), 0 skipped\n");
    expect(modelsRequests).toBe(before + 1);
    expect(await count()).toBe(pricesBefore + 1); // in this database, not in a file named after the URL
    await db.close();
  }, 60_000);
});
