import type pg from "pg";
import { sql } from "drizzle-orm";
import { beforeAll, describe, expect, it } from "vitest";
import { rolledUpSpendNano } from "../../../server/alerts/traffic-figures.ts";
import { spentNano } from "../../../server/budgets/spent-sql.ts";
import type { Db } from "../../../server/db/database.ts";
import { rollupPending } from "../../../server/usage/rollups/buckets.ts";
import { ROLLUP_LEVELS } from "../../../server/usage/rollups/rollup-levels.ts";
import { ownPostgres } from "../../pg/database.ts";

// A rollup that commits while a budget's spent figure or the spend anomaly's baseline is being
// read must not skew it: the reader adds rollup rows to the calls not rolled up yet, and the
// rollup moves calls from one to the other. The interleaving is made deterministic with
// PostgreSQL's own locks: a transaction takes an ACCESS EXCLUSIVE lock on one table the reader
// reads, the reader starts and blocks on it (seen in pg_stat_activity), the rollup runs in that
// same transaction and commits, and the reader carries on. Whichever table is locked — the
// watermark's, the rollups', the calls' — the figure must equal the raw calls' sum.

const DAY = Date.UTC(2026, 10, 30);
// A server of its own, not the run's shared one (see ownPostgres).
const own = ownPostgres({ prefix: "midread", month: DAY, poolMax: 6, plainPoolMax: 2 });
let db: Db;
let pool: pg.Pool;
beforeAll(() => {
  ({ db, pool } = own);
});

const TEAM = "research";
let seq = 0;

/** Commit `n` calls of the team, spread over the day, each costing a distinct amount. */
async function insertCalls(n: number): Promise<void> {
  const values: string[] = [];
  for (let i = 0; i < n; i++) {
    seq++;
    values.push(`('mid-${seq}', ${DAY + ((seq * 7_919_000) % 86_400_000)}, 'm', '/v1/chat/completions', 200, 'upstream', 1, 1, 5, ${1_000_003 * seq}, '${TEAM}')`);
  }
  await pool.query(
    `INSERT INTO calls (request_id, created_at, model, endpoint, status, usage_source, prompt_tokens, completion_tokens, duration_ms, cost_nano, team) VALUES ${values.join(", ")}`,
  );
}

async function rawSpend(): Promise<bigint> {
  const r = await pool.query<{ total: string }>(`SELECT CAST(SUM(cost_nano) AS TEXT) AS total FROM calls WHERE team = '${TEAM}'`);
  return BigInt(r.rows[0]!.total);
}

/** Until a statement of this database waits for a lock. */
async function untilSomeoneWaits(): Promise<void> {
  for (let i = 0; i < 500; i++) {
    const r = await pool.query<{ n: number }>("SELECT COUNT(*)::int AS n FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'");
    if (r.rows[0]!.n > 0) return;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  throw new Error("the reader never waited for the lock");
}

/**
 * `read`, started while `tables` are locked; the rollup takes the fresh tail and commits while
 * the reader waits for them. Returns what it read and how many calls the rollup moved.
 */
async function readAcrossRollup(tables: string, read: () => Promise<bigint>): Promise<{ figure: bigint; rolled: number }> {
  const { reading, rolled } = await db.transaction(async (tx) => {
    await tx.run(sql.raw(`LOCK TABLE ${tables} IN ACCESS EXCLUSIVE MODE`));
    const reading = read();
    reading.catch(() => {}); // awaited below, after the commit that lets it go on
    await untilSomeoneWaits();
    return { reading, rolled: (await rollupPending(tx)).calls };
  });
  return { figure: await reading, rolled };
}

const ROLLUP_TABLES = ROLLUP_LEVELS.map((l) => l.oneDim).join(", ");
const LOCKED = [
  ["the watermark (job_state)", "job_state"],
  ["the rollups", ROLLUP_TABLES],
  ["the calls", "calls"],
] as const;

const READERS = [
  ["a budget's spent figure", () => spentNano(db, "team", TEAM, DAY, DAY + 86_400_000)],
  ["the spend anomaly's rolled-up spend", () => rolledUpSpendNano(db, DAY, DAY + 86_400_000)],
] as const;

describe("sums of rollups and the fresh tail, with a rollup committing mid-read", () => {
  it.each(READERS.flatMap(([reader, read]) => LOCKED.map(([what, tables]) => [reader, what, tables, read] as const)))(
    "%s counts every call once when the rollup commits while the reader waits for %s",
    async (_reader, _what, tables, read) => {
      await insertCalls(40);
      await db.transaction((tx) => rollupPending(tx)); // some calls in the rollups…
      await insertCalls(25); // …and some in the fresh tail, which the rollup below takes
      const { figure, rolled } = await readAcrossRollup(tables, read);
      expect(rolled).toBe(25);
      expect(figure).toBe(await rawSpend());
    },
  );
});
