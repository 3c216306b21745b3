import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { sql } from "drizzle-orm";
import { afterEach, describe, expect, it } from "vitest";
import { openDatabase, type Db } from "../../server/db/open.ts";
import { jobRuns } from "../../server/db/schema.ts";

// The Db handle on SQLite: one connection per thread, so its transactions must take turns, and
// what a failed one wrote must not survive it.

const opened: { db: Db; dir: string }[] = [];
afterEach(async () => {
  for (const { db, dir } of opened.splice(0)) {
    await db.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

function tempDb(): Db {
  const dir = mkdtempSync(join(tmpdir(), "tollbooth-db-"));
  const db = openDatabase(join(dir, "t.db"));
  opened.push({ db, dir });
  return db;
}

const count = async (db: Db) => (await db.get<{ n: number }>(sql`SELECT count(*) AS n FROM job_runs`))!.n;

describe("the SQLite Db handle", () => {
  it("runs two transactions started together one after the other, each seeing the other's commit", async () => {
    const db = tempDb();
    const events: string[] = [];
    const insertAndCount = (name: "rollup" | "retention") =>
      db.transaction(
        async (tx) => {
          events.push(`${name} begins`);
          await tx.orm.insert(jobRuns).values({ job: name, startedAt: 1 });
          // A real wait inside the first transaction: the second must not BEGIN on this connection meanwhile.
          await new Promise((resolve) => setTimeout(resolve, 20));
          events.push(`${name} ends`);
          return count(tx);
        },
        { immediate: true },
      );
    const [first, second] = await Promise.all([insertAndCount("rollup"), insertAndCount("retention")]);
    expect(events).toEqual(["rollup begins", "rollup ends", "retention begins", "retention ends"]);
    expect([first, second]).toEqual([1, 2]);
  });

  it("rolls back what a transaction wrote when it throws, and stays usable", async () => {
    const db = tempDb();
    await expect(
      db.transaction(async (tx) => {
        await tx.run(sql`INSERT INTO job_runs (job, started_at) VALUES (${"rollup"}, ${1})`);
        throw new Error("half-way");
      }),
    ).rejects.toThrow("half-way");
    expect(await count(db)).toBe(0);
    await db.transaction(async (tx) => {
      await tx.orm.insert(jobRuns).values({ job: "rollup", startedAt: 2 });
    });
    expect(await count(db)).toBe(1);
  });

  it("binds parameters, reports changes and answers undefined for no row", async () => {
    const db = tempDb();
    const { changes } = await db.run(sql`INSERT INTO job_runs (job, started_at) VALUES (${"it's"}, ${3}), (${"x"}, ${4})`);
    expect(changes).toBe(2);
    expect(await db.get<{ job: string }>(sql`SELECT job FROM job_runs WHERE started_at = ${3}`)).toEqual({ job: "it's" });
    expect(await db.get(sql`SELECT job FROM job_runs WHERE started_at = ${99}`)).toBeUndefined();
    expect(await db.all<{ id: number }>(sql`SELECT id FROM job_runs ORDER BY id`)).toHaveLength(2);
  });
});
