import { getTableColumns, sql, type SQL } from "drizzle-orm";
import type { Db } from "../../db/database.ts";
import { calls, type Call } from "../../db/schema.ts";
import type { KeyPattern, RequestsSql, TextSearch } from "../dialect.ts";
import { containsPattern } from "../like-pattern.ts";
import { indexable } from "../message-index.ts";

// The explorer's PostgreSQL-only SQL (see dialect.ts): loose index scans of calls, and the text
// search: a walk of the newest candidates first, then the pg_trgm index
// calls_error_message_trgm_idx (migrations-pg/0007) for a text it finds in few messages, else a
// walk of every candidate.
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

/** Candidates the probe of a text search walks before it asks the trigram index. */
const PROBED = 2_000;

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

  countMatches,

  async searchPage(db: Db, s: TextSearch): Promise<Call[] | null> {
    if (!indexable(s.q)) return null;
    // A common text fills the page from the newest candidates at once, where reading it from the
    // trigram index costs its whole posting list (~170 ms for a word in every message at 10M calls).
    const probed = await walkPage(db, s.rest, s.text, PROBED, s.limit);
    if (probed.length === s.limit) return probed;
    if ((await countMatches(db, s.q, s.indexReadMax + 1)) > s.indexReadMax) return null;
    // The matches are read first, whole, through the trigram index (MATERIALIZED keeps the
    // planner from folding them into a walk of the failed calls: it cannot tell how rare the text
    // is), then every filter is tested on those few and they are sorted. The outer query names
    // them `calls`, so the conditions read their columns.
    return db.all<Call>(sql`
      WITH matches AS MATERIALIZED (SELECT * FROM calls WHERE ${messageILike(containsPattern(s.q))})
      SELECT ${CALL_COLUMNS} FROM matches AS calls
      ${s.where ? sql`WHERE ${s.where}` : sql``}
      ORDER BY calls.created_at DESC, calls.id DESC LIMIT ${s.limit}`);
  },

  walkTextPage(db: Db, s: TextSearch): Promise<Call[]> {
    return walkPage(db, s.rest, s.text, null, s.limit);
  },

  candidatePage: walkPage,
};

async function countMatches(db: Db, q: string, cap: number): Promise<number> {
  return (await db.get<{ n: number }>(sql`SELECT count(*) AS n FROM (SELECT 1 FROM calls WHERE ${messageILike(containsPattern(q))} LIMIT ${cap}) AS m`))!.n;
}

/**
 * A page walking the candidates (calls meeting `candidates`) newest first on their index, testing
 * `where` on each (a text search, a user or project), up to `maxCandidates` of them (null: all).
 * Written as a subquery the planner plans on its own (OFFSET 0 keeps `where` out of it), with no
 * ORDER BY outside it, so it is planned to deliver its first rows fast: an ordered index walk.
 * Planned as one query, the selectivity of a text test, which the planner cannot know, decided
 * the plan: a word in every message ("stream") was read whole from the trigram index and sorted,
 * 9.6 s at 10M calls, and so was a 2-character text, 2.7 s. The outer query keeps the subquery's
 * order (nothing in it reorders rows).
 */
function walkPage(db: Db, candidates: SQL | undefined, where: SQL | undefined, maxCandidates: number | null, limit: number): Promise<Call[]> {
  return db.all<Call>(sql`
    SELECT ${CALL_COLUMNS} FROM (
      SELECT * FROM calls ${candidates ? sql`WHERE ${candidates}` : sql``}
      ORDER BY calls.created_at DESC, calls.id DESC ${maxCandidates === null ? sql`` : sql`LIMIT ${maxCandidates}`} OFFSET 0
    ) AS calls
    ${where ? sql`WHERE ${where}` : sql``} LIMIT ${limit}`);
}
