import type Database from "better-sqlite3";
import type { Db } from "../../../db/database.ts";
import { sqliteClient } from "../../../db/sqlite.ts";
import { ROLLUP_WATERMARK, readState, writeState } from "../../../job-runs/job-state.ts";
import { aggregate, rebuildRange } from "../bucket-writes.ts";
import type { RollupProgress } from "../buckets.ts";
import type { RollupParam, RollupRunner } from "../rollup-runner.ts";
import { ROLLUP_LEVELS } from "../rollup-levels.ts";

// The SQLite rollup: the watermark is the highest call id rolled up. Sound because SQLite has one
// writer at a time (the write lock), so when a call id is visible every lower id is committed
// or never will be. Statements run synchronously on the connection; the runner's promises are
// settled when returned.

/** The rollup's statements on one better-sqlite3 connection, its scratch tables in `temp`. */
function sqliteRunner(client: Database.Database): RollupRunner {
  return {
    scratch: (name) => `temp.${name}`,
    createScratch: (table, columns) => `CREATE TABLE IF NOT EXISTS ${table} (${columns})`,
    createScratchLike: (table, like) => `CREATE TABLE IF NOT EXISTS ${table} AS SELECT * FROM ${like} WHERE false`,
    integer: "INTEGER",
    run: async (text: string, params: readonly RollupParam[] = []) => {
      client.prepare(text).run(...params);
    },
    number: async (text: string, params: readonly RollupParam[] = []) => (client.prepare(text).pluck().get(...params) as number | undefined) ?? 0,
  };
}

export async function rollupPending(db: Db, maxIds: number): Promise<RollupProgress> {
  const client = sqliteClient(db);
  const watermark = await readState(db, ROLLUP_WATERMARK);
  const maxId = (client.prepare("SELECT COALESCE(MAX(id), 0) FROM calls").pluck().get() as number) ?? 0;
  if (maxId <= watermark) return { calls: 0, watermark, caughtUp: true };
  const upTo = Math.min(maxId, watermark + maxIds);
  const calls = client.prepare("SELECT COUNT(*) FROM calls WHERE id > ? AND id <= ?").pluck().get(watermark, upTo) as number;
  await aggregate(sqliteRunner(client), ROLLUP_LEVELS, "id > ? AND id <= ?", [watermark, upTo]);
  await writeState(db, ROLLUP_WATERMARK, upTo);
  return { calls, watermark: upTo, caughtUp: upTo === maxId };
}

/** A read of the watermark and of the highest call id (the rowid B-tree's last entry), no write. */
export async function hasNothingToRollUp(db: Db): Promise<RollupProgress | null> {
  const client = sqliteClient(db);
  const watermark = await readState(db, ROLLUP_WATERMARK);
  const pending = client.prepare("SELECT EXISTS (SELECT 1 FROM calls WHERE id > ?)").pluck().get(watermark) as number;
  return pending ? null : { calls: 0, watermark, caughtUp: true };
}

export async function rebuildBuckets(db: Db, from: number, to: number): Promise<RollupProgress> {
  const client = sqliteClient(db);
  const watermark = await readState(db, ROLLUP_WATERMARK);
  const calls = client.prepare("SELECT COUNT(*) FROM calls WHERE created_at >= ? AND created_at < ? AND id <= ?").pluck().get(from, to, watermark) as number;
  await rebuildRange(sqliteRunner(client), from, to, "id <= ?", [watermark]);
  return { calls, watermark, caughtUp: true };
}
