import { type SQL, sql } from "drizzle-orm";
import { expect, it } from "vitest";
import { windowP95 } from "../../server/alerts/traffic-figures.ts";
import type { Db } from "../../server/db/database.ts";
import { calls } from "../../server/db/schema.ts";
import { bothEngines } from "../db/engines.ts";
import { makeCall } from "../factories.ts";

// The latency rule's p95 counts the window's calls, then reads the call at the 95th rank: two
// statements that must see the same calls. On PostgreSQL a transaction is READ COMMITTED unless
// asked otherwise, which gives each statement its own snapshot; here calls are deleted between
// the two (as retention might), and the rank then fell past the end: no p95 at all.

const T0 = Date.UTC(2026, 10, 3, 12);
const [, openPostgres] = bothEngines().find(([engine]) => engine === "postgres")!;

/** `db`, whose transactions run `between` (on another connection) once, right after their first statement. */
function pausingAfterFirstStatement(db: Db, between: () => Promise<void>): Db {
  let done = false;
  const after = async <T,>(result: Promise<T>): Promise<T> => {
    const value = await result;
    if (!done) {
      done = true;
      await between();
    }
    return value;
  };
  const inTransaction = (tx: Db): Db => ({
    dialect: tx.dialect,
    orm: tx.orm,
    all: <T,>(q: SQL) => after(tx.all<T>(q)),
    get: <T,>(q: SQL) => after(tx.get<T>(q)),
    run: (q: SQL) => after(tx.run(q)),
    transaction: (fn, opts) => tx.transaction(fn, opts),
    close: () => tx.close(),
  });
  return { ...db, dialect: db.dialect, orm: db.orm, all: (q) => db.all(q), get: (q) => db.get(q), run: (q) => db.run(q), close: () => db.close(), transaction: (fn, opts) => db.transaction((tx) => fn(inTransaction(tx)), opts) };
}

it("the p95 of a window reads its count and its ranked call from one snapshot on PostgreSQL", async () => {
  const db = await openPostgres();
  await db.run(sql`SELECT tollbooth_ensure_calls_partitions(${T0}, 0)`);
  await db.orm.insert(calls).values(Array.from({ length: 10 }, (_, i) => makeCall({ createdAt: T0 + i, status: 200, errorType: null, durationMs: (i + 1) * 10 })));
  let deleted = 0;
  const racing = pausingAfterFirstStatement(db, async () => {
    deleted = (await db.run(sql`DELETE FROM calls WHERE duration_ms > 50`)).changes;
  });
  expect(await windowP95(racing, T0, T0 + 60_000)).toEqual({ calls: 10, p95Ms: 100 });
  expect(deleted).toBe(5);
  expect(await windowP95(db, T0, T0 + 60_000)).toEqual({ calls: 5, p95Ms: 50 });
});
