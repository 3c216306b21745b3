import { sql, type SQL } from "drizzle-orm";
import type { Db } from "../../../db/database.ts";
import type { RollupParam, RollupRunner } from "../rollup-runner.ts";

// The rollup's statements on PostgreSQL, through the Db handle of the caller's transaction.
// Scratch tables live in the session's pg_temp schema and empty themselves at every commit (ON
// COMMIT DELETE ROWS): autovacuum never visits temporary tables, so rows left deleted there on
// a pooled connection would pile up for the connection's whole life.

/** `text` with each `?` bound to the next of `params`, as drizzle SQL (numbered per dialect). */
function bindParams(text: string, params: readonly RollupParam[]): SQL {
  const pieces = text.split("?");
  if (pieces.length !== params.length + 1) throw new Error(`${pieces.length - 1} placeholders for ${params.length} parameters`);
  const chunks: SQL[] = [sql.raw(pieces[0]!)];
  for (const [i, param] of params.entries()) chunks.push(sql`${param}`, sql.raw(pieces[i + 1]!));
  return sql.join(chunks);
}

export function postgresRunner(db: Db): RollupRunner {
  return {
    scratch: (name) => `pg_temp.${name}`,
    createScratch: (table, columns) => `CREATE TABLE IF NOT EXISTS ${table} (${columns}) ON COMMIT DELETE ROWS`,
    createScratchLike: (table, like) => `CREATE TABLE IF NOT EXISTS ${table} (LIKE ${like}) ON COMMIT DELETE ROWS`,
    integer: "BIGINT",
    run: async (text, params = []) => {
      await db.run(bindParams(text, params));
    },
    number: async (text, params = []) => {
      const row = await db.get<Record<string, number>>(bindParams(text, params));
      return row === undefined ? 0 : Number(Object.values(row)[0] ?? 0);
    },
  };
}
