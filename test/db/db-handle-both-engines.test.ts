import { createServer } from "node:net";
import { sql } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { connectDatabase } from "../../server/db/connect.ts";
import type { Db } from "../../server/db/database.ts";
import { pgPool } from "../../server/db/postgres-db.ts";
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

  it("reads a snapshot transaction's rows and refuses nothing SQLite would", async () => {
    const db = await open();
    await db.run(sql`INSERT INTO job_runs (job, started_at) VALUES (${"rollup"}, ${1})`);
    expect(await db.transaction((tx) => count(tx), { snapshot: true, local: { jit: "off" } })).toBe(1);
  });

  it.runIf(engine === "postgres")("sets a snapshot transaction's isolation, read-only mode and SET LOCALs with BEGIN, in one round trip", async () => {
    const db = await open();
    // Every statement a pooled connection is sent from here on (node-postgres' own client).
    const sent: string[] = [];
    const wrapped = new WeakSet<object>();
    pgPool(db).on("acquire", (client) => {
      if (wrapped.has(client)) return;
      wrapped.add(client);
      const query = client.query.bind(client) as (...args: unknown[]) => unknown;
      (client as { query: unknown }).query = (...args: unknown[]) => {
        sent.push(typeof args[0] === "string" ? args[0] : "(config)");
        return query(...args);
      };
    });
    const settings = sql`SELECT current_setting('transaction_isolation') AS iso, current_setting('transaction_read_only') AS ro, current_setting('jit') AS jit`;
    const inside = await db.transaction((tx) => tx.get(settings), { snapshot: true, local: { jit: "off" } });
    expect(inside).toEqual({ iso: "repeatable read", ro: "on", jit: "off" });
    expect(sent).toEqual(["BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY; SET LOCAL jit = off", expect.stringContaining("current_setting"), "COMMIT"]);
    // SET LOCAL ends with its transaction; a plain one is READ COMMITTED and may write.
    expect(await db.transaction((tx) => tx.get(settings))).toEqual({ iso: "read committed", ro: "off", jit: "on" });
    await expect(db.transaction((tx) => tx.run(sql`INSERT INTO job_runs (job, started_at) VALUES (${"rollup"}, ${1})`), { snapshot: true })).rejects.toThrow(/read-only transaction/);
    // Inside another transaction the mode cannot be set any more: a mistake, not ignored.
    await expect(db.transaction((tx) => tx.transaction(async () => 1, { snapshot: true }))).rejects.toThrow(/inside another transaction/);
    await expect(db.transaction(async () => 1, { local: { jit: "off; DROP TABLE calls" } })).rejects.toThrow(/not a setting/);
    expect(await count(db)).toBe(0);
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
