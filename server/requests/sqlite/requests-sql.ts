import { and, desc, sql, type SQL } from "drizzle-orm";
import type { Db } from "../../db/database.ts";
import { calls } from "../../db/schema.ts";
import { sqliteClient } from "../../db/sqlite.ts";
import type { KeyPattern, RequestsSql, TextSearch } from "../dialect.ts";
import { countMatches, indexable, matchingIds } from "../message-index.ts";

// The explorer's SQLite-only SQL (see dialect.ts): loose index scans written as recursive CTEs,
// and the text search through the FTS5 table of message-index.ts.

// Above every character a key_id holds (ASCII): the end of a prefix's range in the index.
const AFTER = "\u{ffff}";

// The distinct key_ids in [lo, hi), one index seek each on calls_key_created_idx (a loose index
// scan: a key with a million calls costs one step, not a million), that match the test. SQLite
// compares text by its bytes, so the walk is in code-point order and a prefix's keys are one range.
const walkKeys = (maxWalked: number, limit: number) => `
  WITH RECURSIVE k(id, n) AS (
    SELECT (SELECT key_id FROM calls WHERE key_id >= :lo ORDER BY key_id LIMIT 1), 1
    UNION ALL
    SELECT (SELECT key_id FROM calls WHERE key_id > k.id ORDER BY key_id LIMIT 1), n + 1 FROM k
    WHERE k.id IS NOT NULL AND k.id < :hi AND n < ${maxWalked}
  )
  SELECT id FROM k WHERE id IS NOT NULL AND id < :hi AND (
    (NOT :either AND substr(id, 1, length(:prefix)) = :prefix AND (:suffix = '' OR substr(id, -length(:suffix)) = :suffix))
    OR (:either AND (substr(id, 1, length(:text)) = :text OR substr(id, -length(:text)) = :text))
  )
  LIMIT ${limit}`;

// The same over calls_model_created_idx: one seek per model, however many calls each has.
const walkModels = (max: number) => `
  WITH RECURSIVE m(name, n) AS (
    SELECT (SELECT model FROM calls WHERE model IS NOT NULL ORDER BY model LIMIT 1), 1
    UNION ALL
    SELECT (SELECT model FROM calls WHERE model > m.name ORDER BY model LIMIT 1), n + 1 FROM m WHERE m.name IS NOT NULL AND n < ${max}
  )
  SELECT name FROM m WHERE name IS NOT NULL`;

/**
 * The page of a text search read from the message index: its matches are the outer loop (CROSS
 * JOIN keeps that order; SQLite might otherwise walk a time range of calls_created_idx and probe
 * the matches), every filter, the LIKE included, is checked on each, and the few are sorted.
 */
export function searchPageQuery(db: Db, q: string, where: SQL | undefined, limit: number) {
  const matches = sql`(${matchingIds(q)}) AS matches`;
  return db.orm
    .select({ call: calls })
    .from(sql`${matches}`)
    .crossJoin(calls)
    .where(and(sql`${calls.id} = matches.id`, where))
    .orderBy(desc(calls.createdAt), desc(calls.id))
    .limit(limit);
}

export const sqliteRequestsSql: RequestsSql = {
  async matchingKeys(db: Db, pattern: KeyPattern, limit: number, maxWalked: number): Promise<string[]> {
    // A prefix walks only its own range of the index; a text that may be a suffix walks every key.
    const params =
      "either" in pattern
        ? { lo: "", hi: AFTER, prefix: pattern.either, suffix: "", either: 1, text: pattern.either }
        : { lo: pattern.prefix, hi: pattern.prefix + AFTER, prefix: pattern.prefix, suffix: pattern.suffix, either: 0, text: "" };
    return sqliteClient(db).prepare(walkKeys(maxWalked, limit)).pluck().all(params) as string[];
  },

  async distinctModels(db: Db, max: number): Promise<string[]> {
    return sqliteClient(db).prepare(walkModels(max)).pluck().all() as string[];
  },

  // SQLite's LIKE is case-insensitive for ASCII letters only, which is the meaning on both engines.
  messageLike(pattern: string): SQL {
    return sql`${calls.errorMessage} LIKE ${pattern} ESCAPE '\\'`;
  },

  countMatches,

  // Counted on the index first: a common text is left to the page query's walk of the failed
  // calls, which meets a page of it sooner than reading every match.
  async searchPage(db: Db, s: TextSearch) {
    if (!indexable(s.q) || (await countMatches(db, s.q, s.indexReadMax + 1)) > s.indexReadMax) return null;
    return (await searchPageQuery(db, s.q, s.where, s.limit)).map((r) => r.call);
  },
};
