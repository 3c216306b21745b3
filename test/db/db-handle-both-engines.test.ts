import { createServer } from "node:net";
import { sql } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { connectDatabase } from "../../server/db/connect.ts";
import type { Db } from "../../server/db/database.ts";
import { jobRuns } from "../../server/db/schema.ts";
import { StartupError } from "../../server/startup-error.ts";
import { bothEngines } from "./engines.ts";

// The Db handle's contract on both engines: transactions that take turns when immediate, roll
// back whole, bind parameters and count changes; on PostgreSQL a transaction's statements run on
// its own connection, so nothing it wrote is seen outside before COMMIT.

const count = async (db: Db) => (await db.get<{ n: number }>(sql`SELECT count(*) AS n FROM job_runs`))!.n;

describe.each(bothEngines())("the Db handle on %s", (engine, open) => {
  it("runs two immediate transactions started together one after the other, each seeing the other's commit", async () => {
    const db = await open();
    const events: string[] = [];
    const insertAndCount = (name: "rollup" | "retention") =>
      db.transaction(
        async (tx) => {
          events.push(`${name} begins`);
          await tx.orm.insert(jobRuns).values({ job: name, startedAt: 1 });
          await new Promise((resolve) => setTimeout(resolve, 50));
          events.push(`${name} ends`);
          return count(tx);
        },
        { immediate: true },
      );
    const first = insertAndCount("rollup");
    // On a pool both may reach BEGIN; only the order of the work inside is promised.
    await new Promise((resolve) => setTimeout(resolve, 10));
    const second = insertAndCount("retention");
    expect(await Promise.all([first, second])).toEqual([1, 2]);
    expect(events).toEqual(["rollup begins", "rollup ends", "retention begins", "retention ends"]);
  });

  it("rolls back what a transaction wrote when it throws, and stays usable", async () => {
    const db = await open();
    await expect(
      db.transaction(async (tx) => {
        await tx.run(sql`INSERT INTO job_runs (job, started_at) VALUES (${"rollup"}, ${1})`);
        throw new Error("half-way");
      }),
    ).rejects.toThrow("half-way");
    expect(await count(db)).toBe(0);
    await db.transaction(async (tx) => {
      await tx.orm.insert(jobRuns).values({ job: "rollup", startedAt: 2 });
      // A transaction begun inside one joins it.
      await tx.transaction(async (inner) => inner.orm.insert(jobRuns).values({ job: "rollup", startedAt: 3 }));
    });
    expect(await count(db)).toBe(2);
  });

  it("binds parameters, reports changes, reads bigints as numbers and answers undefined for no row", async () => {
    const db = await open();
    const { changes } = await db.run(sql`INSERT INTO job_runs (job, started_at) VALUES (${"it's"}, ${2 ** 42}), (${"x"}, ${4})`);
    expect(changes).toBe(2);
    expect(await db.get(sql`SELECT job, started_at AS "startedAt" FROM job_runs WHERE started_at = ${2 ** 42}`)).toEqual({ job: "it's", startedAt: 2 ** 42 });
    expect(await db.get(sql`SELECT job FROM job_runs WHERE started_at = ${99}`)).toBeUndefined();
    expect(await db.all<{ id: number }>(sql`SELECT id FROM job_runs ORDER BY id`)).toEqual([{ id: 1 }, { id: 2 }]);
    expect(await db.get(sql`SELECT sum(started_at) AS total FROM job_runs`)).toEqual({ total: 2 ** 42 + 4 });
  });

  it.runIf(engine === "postgres")("keeps a transaction's writes on its own connection until COMMIT", async () => {
    const db = await open();
    let seenOutside = -1;
    await db.transaction(async (tx) => {
      await tx.orm.insert(jobRuns).values({ job: "rollup", startedAt: 1 });
      seenOutside = await count(db);
      expect(await count(tx)).toBe(1);
    });
    expect(seenOutside).toBe(0);
    expect(await count(db)).toBe(1);
  });
});

async function closedPort(): Promise<number> {
  return new Promise((resolve) => {
    const server = createServer().listen(0, "127.0.0.1", () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

describe("connectDatabase", () => {
  it("refuses an unreachable PostgreSQL with a start-up error naming DATABASE_URL, password masked", async () => {
    const url = `postgres://tollbooth:hunter2@127.0.0.1:${await closedPort()}/tollbooth`;
    const err = await connectDatabase(url, { poolMax: 1, connectTimeoutMs: 2_000 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StartupError);
    expect((err as Error).message).toMatch(/^cannot connect to PostgreSQL at DATABASE_URL=postgres:\/\/tollbooth:\*\*\*@127\.0\.0\.1:\d+\/tollbooth: ECONNREFUSED/);
    expect((err as Error).message).not.toContain("hunter2");
  });
});
