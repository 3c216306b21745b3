import type { SQL } from "drizzle-orm";
import type { BaseSQLiteDatabase } from "drizzle-orm/sqlite-core";
import type * as schema from "./schema.ts";

// The database handle every store, route, page and job takes. It names no driver: SQLite
// (better-sqlite3, one connection per thread) implements it in sqlite.ts, and a PostgreSQL pool
// can implement it the same way. Everything on it is async, because a pooled network driver is;
// on SQLite the promises are already settled when they are returned.

type Dialect = "sqlite" | "postgres";

/**
 * Drizzle's query builder over the tables of schema.ts. Only ever awaited (`await
 * db.orm.select()…`), never `.all()`, `.get()` or `.run()`: those are SQLite's synchronous API and
 * node-postgres has no such methods. Drizzle renders a builder's SQL in the handle's dialect (the
 * PostgreSQL dialect renders these same table objects), so typed queries need no twin.
 */
export type Orm = BaseSQLiteDatabase<"async", unknown, typeof schema>;

export interface TransactionOptions {
  /**
   * Take the write lock at BEGIN (SQLite's BEGIN IMMEDIATE): for a read-then-write that must not
   * interleave with another writer. On PostgreSQL a normal transaction; code that needs mutual
   * exclusion there takes a row or advisory lock inside it.
   */
  immediate?: boolean;
  /**
   * Read only, every statement from one snapshot, so reads that must agree (a count and a page, a
   * total and its groups) do. SQLite's read transaction is that already. On PostgreSQL it is
   * REPEATABLE READ, READ ONLY, set at BEGIN: no round trip of its own.
   */
  snapshot?: boolean;
  /**
   * PostgreSQL settings for this transaction only (SET LOCAL), sent with BEGIN in the same round
   * trip; SQLite has none. Names and values are constants in the code (letters, digits, _).
   */
  local?: Record<string, string>;
}

export interface Db {
  readonly dialect: Dialect;
  readonly orm: Orm;
  /** Rows of a statement written with drizzle's `sql` template (placeholders rendered per dialect). */
  all<T>(query: SQL): Promise<T[]>;
  /** The first row, or undefined. */
  get<T>(query: SQL): Promise<T | undefined>;
  /** A statement without rows; `changes` is how many rows it inserted, updated or deleted. */
  run(query: SQL): Promise<{ changes: number }>;
  /**
   * Run `fn` in one transaction on one connection and commit, or roll back if it throws. `fn`
   * must use the handle it is given (on a pool that is the transaction's own connection) and
   * await nothing but that handle: no network calls while a transaction is open. A transaction
   * started inside one joins it.
   */
  transaction<T>(fn: (tx: Db) => Promise<T>, opts?: TransactionOptions): Promise<T>;
  /** Close the connection(s); the handle is unusable afterwards. */
  close(): Promise<void>;
}
