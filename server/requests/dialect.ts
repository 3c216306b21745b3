import type { SQL } from "drizzle-orm";
import type { Db } from "../db/database.ts";
import type { Call } from "../db/schema.ts";
import { postgresRequestsSql } from "./postgres/requests-sql.ts";
import { sqliteRequestsSql } from "./sqlite/requests-sql.ts";

// The explorer's reads that need SQL one engine runs and the other does not: the loose index
// scans that list distinct keys and models, and the text search with its index (SQLite: an FTS5
// trigram table, PostgreSQL: a pg_trgm GIN index). Each engine's SQL is in its own folder
// (sqlite/, postgres/); the modules that use them (key-match, model-match, query) hold the
// meaning, which is the same on both, and pick the engine's SQL by db.dialect.

/** What a key filter asks for (key-match.ts): the shown form's two ends, or one text at either end. */
export type KeyPattern = { prefix: string; suffix: string } | { either: string };

export interface RequestsSql {
  /**
   * Distinct recorded key_ids matching `pattern`, in code-point order, at most `limit`. Walks at
   * most `maxWalked` distinct keys.
   */
  matchingKeys(db: Db, pattern: KeyPattern, limit: number, maxWalked: number): Promise<string[]>;
  /** Every distinct recorded model (at most `max`), in code-point order. */
  distinctModels(db: Db, max: number): Promise<string[]>;
  /** calls.error_message contains `pattern` (a LIKE pattern escaped with \), ASCII letters in any case, others exactly. */
  messageLike(pattern: string): SQL;
  /** How many messages the text index finds for `q` (at least the true matches), counting no further than `cap`. `q` must be indexable. */
  countMatches(db: Db, q: string, cap: number): Promise<number>;
  /**
   * The exact page of a text search read through the engine's text index, or null when `q` is
   * too short for the index or found in more than `indexReadMax` messages (then the walk answers:
   * walkTextPage, else query.ts's page query).
   */
  searchPage(db: Db, s: TextSearch): Promise<Call[] | null>;
  /** The page of a text search walking calls newest first, when the engine needs its own form of that walk. */
  walkTextPage?(db: Db, s: TextSearch): Promise<Call[]>;
  /**
   * The newest `maxCandidates` calls meeting `candidates` that also meet `where`, newest first,
   * `limit` at most (a bounded page, query.ts), when the engine needs its own form of that read.
   */
  candidatePage?(db: Db, candidates: SQL | undefined, where: SQL | undefined, maxCandidates: number, limit: number): Promise<Call[]>;
}

/** A text search's page, for the engine's SQL. */
export interface TextSearch {
  q: string;
  /** Every condition of the page, the text test included. */
  where: SQL | undefined;
  /** The text test (messageLike) alone. */
  text: SQL;
  /** The other conditions: failed calls, the other filters, the window and cursor. */
  rest: SQL | undefined;
  /** Rows to read. */
  limit: number;
  /** Most matches the index path reads (see query.ts). */
  indexReadMax: number;
}

export function requestsSql(db: Db): RequestsSql {
  return db.dialect === "postgres" ? postgresRequestsSql : sqliteRequestsSql;
}
