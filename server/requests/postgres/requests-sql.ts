import { getTableColumns, sql, type SQL } from "drizzle-orm";
import type { Db } from "../../db/database.ts";
import { calls, type Call } from "../../db/schema.ts";
import type { KeyPattern, RequestsSql } from "../dialect.ts";
import { containsPattern } from "../like-pattern.ts";

// The explorer's PostgreSQL-only SQL (see dialect.ts): loose index scans of calls, and the text
// search through the pg_trgm index calls_error_message_trgm_idx (migrations-pg/0005).
//
// Text order: PostgreSQL orders text by the database's collation, which need not be code-point
// order (en_US ignores punctuation at first, so "fe30.." need not sort next to "fe30a"). The
// walks below therefore never rely on the order for a match: they visit every distinct value
// (equality is exact under any deterministic collation, so none is skipped) and test prefixes and
// suffixes by exact comparison, and their results are sorted by code point (COLLATE "C"), so
// both engines list the same values in the same order.

/** The distinct values of a calls column, one index seek per value on every partition. */
const walk = (column: string, maxWalked: number) => sql`
  WITH RECURSIVE v(value, n) AS (
    SELECT (SELECT ${sql.identifier(column)} FROM calls WHERE ${sql.identifier(column)} IS NOT NULL ORDER BY 1 LIMIT 1), 1
    UNION ALL
    SELECT (SELECT ${sql.identifier(column)} FROM calls WHERE ${sql.identifier(column)} > v.value ORDER BY 1 LIMIT 1), n + 1 FROM v
    WHERE v.value IS NOT NULL AND n < ${sql.raw(String(maxWalked))}
  )`;

const startsWith = (text: string) => sql`left(value, char_length(${text}::text)) = ${text}::text`;
const endsWith = (text: string) => sql`right(value, char_length(${text}::text)) = ${text}::text`;

function keyTest(pattern: KeyPattern): SQL {
  if ("either" in pattern) return sql`(${startsWith(pattern.either)} OR ${endsWith(pattern.either)})`;
  return pattern.suffix === "" ? startsWith(pattern.prefix) : sql`${startsWith(pattern.prefix)} AND ${endsWith(pattern.suffix)}`;
}

const ASCII_UPPER = sql.raw(`'ABCDEFGHIJKLMNOPQRSTUVWXYZ'`);
const ASCII_LOWER = sql.raw(`'abcdefghijklmnopqrstuvwxyz'`);

/** What the trigram index serves: ILIKE folds case by the database's locale (in a C database, ASCII only). */
const messageILike = (pattern: string) => sql`${calls.errorMessage} ILIKE ${pattern} ESCAPE '\\'`;

// The calls columns by their property names, so raw rows come back shaped as the ORM's Call.
const CALL_COLUMNS = sql.join(
  Object.entries(getTableColumns(calls)).map(([key, column]) => sql`${sql.identifier("calls")}.${sql.identifier(column.name)} AS ${sql.identifier(key)}`),
  sql`, `,
);

export const postgresRequestsSql: RequestsSql = {
  async matchingKeys(db: Db, pattern: KeyPattern, limit: number, maxWalked: number): Promise<string[]> {
    const rows = await db.all<{ value: string }>(
      sql`${walk("key_id", maxWalked)} SELECT value FROM v WHERE value IS NOT NULL AND ${keyTest(pattern)} ORDER BY value COLLATE "C" LIMIT ${limit}`,
    );
    return rows.map((r) => r.value);
  },

  async distinctModels(db: Db, max: number): Promise<string[]> {
    const rows = await db.all<{ value: string }>(sql`${walk("model", max)} SELECT value FROM v WHERE value IS NOT NULL ORDER BY value COLLATE "C"`);
    return rows.map((r) => r.value);
  },

  // SQLite's meaning: ASCII letters in any case, every other character exactly. ILIKE lets the
  // trigram index serve the search, but may fold more than ASCII (é = É under en_US), so the
  // ASCII-only fold (translate, both sides lowered the same way) decides.
  messageLike(pattern: string): SQL {
    const lowered = pattern.replace(/[A-Z]+/g, (s) => s.toLowerCase());
    return sql`(${messageILike(pattern)} AND translate(${calls.errorMessage}, ${ASCII_UPPER}, ${ASCII_LOWER}) LIKE ${lowered} ESCAPE '\\')`;
  },

  async countMatches(db: Db, q: string, cap: number): Promise<number> {
    return (await db.get<{ n: number }>(sql`SELECT count(*) AS n FROM (SELECT 1 FROM calls WHERE ${messageILike(containsPattern(q))} LIMIT ${cap}) AS m`))!.n;
  },

  // The matches are read first, whole, through the trigram index (MATERIALIZED keeps the planner
  // from walking calls_failed_created_idx newest first and testing every message on the way,
  // which it may prefer for the page's ORDER BY … LIMIT), then the filters are tested on those
  // few and they are sorted. The outer query names them `calls`, so `where` reads their columns.
  async searchPage(db: Db, q: string, where: SQL | undefined, limit: number): Promise<Call[]> {
    return db.all<Call>(sql`
      WITH matches AS MATERIALIZED (SELECT * FROM calls WHERE ${messageILike(containsPattern(q))})
      SELECT ${CALL_COLUMNS} FROM matches AS calls
      ${where ? sql`WHERE ${where}` : sql``}
      ORDER BY calls.created_at DESC, calls.id DESC LIMIT ${limit}`);
  },
};
