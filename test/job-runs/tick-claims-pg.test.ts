import { spawn } from "node:child_process";
import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { connectDatabase } from "../../server/db/connect.ts";
import type { Db } from "../../server/db/database.ts";
import { tickClaimsFor, type TickClaims, type TickOutcome } from "../../server/job-runs/tick-claims.ts";
import { tickDoneName } from "../../server/job-runs/tick-claims-pg.ts";
import { testDatabaseUrl } from "../pg/database.ts";
import { REPO_ROOT } from "../shutdown/child-server.ts";

// The tick claim on PostgreSQL: several claimers (each one instance's claim connection) fire the
// same ticks at once and each tick's work runs exactly once, never two at a time; a claimer
// killed with SIGKILL while it holds a tick leaves that tick to another claimer at once.

let url: string;
let db: Db;
const opened: TickClaims[] = [];
const claimer = () => {
  const claims = tickClaimsFor(url, { pollMs: 10 });
  opened.push(claims);
  return claims;
};
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

beforeAll(async () => {
  url = await testDatabaseUrl("claims");
  db = await connectDatabase(url, { poolMax: 6 });
  await db.run(sql`CREATE TABLE tick_work (tick bigint NOT NULL, claimer text NOT NULL, started_at double precision, ended_at double precision)`);
});
afterAll(async () => {
  for (const claims of opened) await claims.close();
  await db?.close();
});

describe("tick claims on PostgreSQL", () => {
  it("4 claimers firing 30 ticks together (a few ms apart, as skewed timers do): every tick's work runs once, one at a time", async () => {
    const claimers = Array.from({ length: 4 }, claimer);
    const outcomes: TickOutcome<void>[] = [];
    for (let tick = 1; tick <= 30; tick++) {
      const runs = claimers.map(async (claims, i) => {
        await sleep(Math.random() * 8); // timers on different machines do not fire together
        const work = async () => {
          const startedAt = performance.timeOrigin + performance.now();
          await sleep(2 + Math.random() * 10);
          await db.run(sql`INSERT INTO tick_work VALUES (${tick}, ${`c${i}`}, ${startedAt}, ${performance.timeOrigin + performance.now()})`);
        };
        return claims.runOnce("test-job", tick, work);
      });
      outcomes.push(...(await Promise.all(runs)));
    }
    const perTick = await db.all<{ tick: number; n: number }>(sql`SELECT tick, COUNT(*)::int AS n FROM tick_work GROUP BY tick ORDER BY tick`);
    expect(perTick).toEqual(Array.from({ length: 30 }, (_, i) => ({ tick: i + 1, n: 1 })));
    expect(outcomes.filter((o) => o.ran)).toHaveLength(30);
    expect(outcomes.filter((o) => !o.ran && o.why === "done-elsewhere")).toHaveLength(90);
    // Never two at a time: each run ends before the next one starts.
    const spans = await db.all<{ started_at: number; ended_at: number }>(sql`SELECT started_at, ended_at FROM tick_work ORDER BY started_at`);
    for (let i = 1; i < spans.length; i++) expect(spans[i]!.started_at).toBeGreaterThanOrEqual(spans[i - 1]!.ended_at);
    // The work was spread over the claimers, not always the same one.
    const by = await db.all<{ claimer: string }>(sql`SELECT DISTINCT claimer FROM tick_work`);
    expect(by.length).toBeGreaterThan(1);
    const mark = await db.get<{ value: number }>(sql`SELECT value FROM job_state WHERE name = ${tickDoneName("test-job")}`);
    expect(mark?.value).toBe(30);
  });

  it("a tick whose work throws counts as done (as on one instance): the others do not repeat it", async () => {
    const [a, b] = [claimer(), claimer()];
    let calls = 0;
    const failing = async () => {
      calls++;
      await sleep(20);
      throw new Error("upstream said 500");
    };
    const results = await Promise.allSettled([a.runOnce("failing-job", 1, failing), b.runOnce("failing-job", 1, failing)]);
    expect(calls).toBe(1);
    expect(results.map((r) => r.status).sort()).toEqual(["fulfilled", "rejected"]);
    // …and the next tick runs again.
    expect(await b.runOnce("failing-job", 2, async () => "ok")).toEqual({ ran: true, result: "ok" });
  });

  it("a claimer killed with SIGKILL mid-job: the claimer waiting on the same tick does the work at once, and the next tick runs", async () => {
    const tick = 1_000;
    const child = spawn(process.execPath, ["--import", "tsx", "test/job-runs/hold-tick-claim.ts", url, "killed-job", String(tick)], {
      cwd: REPO_ROOT,
      stdio: ["ignore", "pipe", "pipe"],
    });
    let output = "";
    const exited = new Promise<NodeJS.Signals | number | null>((resolve) => child.on("exit", (code, signal) => resolve(signal ?? code)));
    await new Promise<void>((resolve, reject) => {
      const onData = (d: Buffer) => {
        output += d.toString();
        if (output.includes("working")) resolve();
      };
      child.stdout.on("data", onData);
      child.stderr.on("data", onData);
      void exited.then(() => reject(new Error(`the claimer exited before it claimed:\n${output}`)));
    });

    // Two more instances fire the same tick while the child holds it (one of them later, as a
    // timer on a lagging machine would): they wait, they do not run it.
    let ranAt = 0;
    const take = (who: string) => async () => {
      ranAt = Date.now();
      await db.run(sql`INSERT INTO tick_work (tick, claimer) VALUES (${tick}, ${who})`);
    };
    const early = claimer().runOnce("killed-job", tick, take("taker"));
    await sleep(300);
    const late = claimer().runOnce("killed-job", tick, take("taker"));
    await sleep(300);
    expect(ranAt).toBe(0);

    const killedAt = Date.now();
    child.kill("SIGKILL");
    expect(await exited).toBe("SIGKILL");
    const outcomes = await Promise.all([early, late]);
    expect(outcomes.filter((o) => o.ran)).toHaveLength(1);
    expect(outcomes.filter((o) => !o.ran && o.why === "done-elsewhere")).toHaveLength(1);
    expect(ranAt - killedAt).toBeLessThan(3_000); // the lock went with the process, no lease to wait out
    const rows = await db.all<{ claimer: string }>(sql`SELECT claimer FROM tick_work WHERE tick = ${tick}`);
    expect(rows.map((r) => r.claimer).sort()).toEqual(["child", "taker"]); // started by the child, then done once

    // A holder that dies with nobody waiting: the next tick runs (its work covers the lost one).
    const second = spawn(process.execPath, ["--import", "tsx", "test/job-runs/hold-tick-claim.ts", url, "killed-job", String(tick + 1)], {
      cwd: REPO_ROOT,
      stdio: ["ignore", "pipe", "pipe"],
    });
    await new Promise<void>((resolve) => second.stdout.on("data", (d: Buffer) => d.toString().includes("working") && resolve()));
    const secondExited = new Promise((resolve) => second.on("exit", resolve));
    second.kill("SIGKILL");
    await secondExited;
    expect(await claimer().runOnce("killed-job", tick + 2, async () => "caught up")).toEqual({ ran: true, result: "caught up" });
  }, 60_000);
});
