import type { Db } from "../db/database.ts";
import type Database from "better-sqlite3";
import { sql, type SQL } from "drizzle-orm";

// The error-message search index: calls_error_fts, an FTS5 table with the trigram tokenizer
// (migration 0011, which says why trigrams and why contentless). Its rowid is calls.id. The
// recorder adds each new message (messageIndexInserter); a trigger removes a call's entry when
// the call is deleted. Drizzle cannot declare a virtual table, so its SQL lives here.

const TABLE = "calls_error_fts";

/** Adds one call's message to the index; run in the transaction that inserts the call. */
export function messageIndexInserter(client: Database.Database): (callId: number, message: string) => void {
  const insert = client.prepare(`INSERT INTO ${TABLE} (rowid, error_message) VALUES (?, ?)`);
  return (callId, message) => {
    insert.run(callId, message);
  };
}

/**
 * Trigrams find a text of 3 characters or more; shorter text has no trigram to look up. Counted
 * in code points, as the tokenizer counts them (an emoji is one character, two UTF-16 units).
 */
export function indexable(q: string): boolean {
  return [...q].length >= 3;
}

/**
 * `q` as one FTS5 phrase: inside double quotes everything is text for the tokenizer (AND, NEAR,
 * *, -, ^, parentheses and column filters lose their meaning), and a quote is written twice. So a
 * user's text can never be parsed as query syntax, nor fail to parse.
 */
function ftsPhrase(q: string): string {
  return `"${q.replaceAll('"', '""')}"`;
}

/** calls.id of messages containing `q` (any case), newest rowid first. `q` must be indexable. */
export function matchingIds(q: string): SQL {
  return sql`SELECT rowid AS id FROM ${sql.raw(TABLE)} WHERE ${sql.raw(TABLE)} MATCH ${ftsPhrase(q)} ORDER BY rowid DESC`;
}

/** How many messages contain `q`, counting no further than `cap` (so a common text costs little). */
export async function countMatches(db: Db, q: string, cap: number): Promise<number> {
  const table = sql.raw(TABLE);
  return (await db.get<{ n: number }>(sql`SELECT count(*) AS n FROM (SELECT 1 FROM ${table} WHERE ${table} MATCH ${ftsPhrase(q)} LIMIT ${cap})`))!.n;
}
