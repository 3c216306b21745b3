import type Database from "better-sqlite3";
import type { SQL } from "drizzle-orm";
import { drizzle } from "drizzle-orm/better-sqlite3";
import { SQLiteSyncDialect } from "drizzle-orm/sqlite-core";
import type { Db, Orm, TransactionOptions } from "./database.ts";
import * as schema from "./schema.ts";

// The Db handle on one better-sqlite3 connection. Statements run synchronously, so every promise
// here is settled when it is returned; the hot paths (recorder, usage query, fresh tail, rollup)
// reach the connection itself through sqliteClient() in their SQLite-only modules and keep their
// prepared statements.
//
// One connection has one transaction at a time: transaction() waits until the open one has
// ended, where better-sqlite3 would throw on a nested BEGIN. Statements on the outer handle do
// not wait; they run on the connection, inside the open transaction if there is one, as they
// did when everything here was synchronous. That cannot mix two requests' work: a transaction
// awaits only this connection, whose promises are settled at once, so it reaches COMMIT within
// the microtasks of the event that began it, before another request or timer runs. (On a pool
// the outer handle is another connection, so code in a transaction must use the handle it was
// given, never the outer one.)

const dialect = new SQLiteSyncDialect();
/** Distinct statement texts kept prepared; the stores have a few dozen, so this is only a bound. */
const MAX_STATEMENTS = 500;

interface Shared {
  readonly client: Database.Database;
  readonly orm: Orm;
  readonly statements: Map<string, Database.Statement>;
  /** Settles when the open transaction ends; null when none is open. */
  lock: Promise<void> | null;
}

class SqliteDb implements Db {
  readonly dialect = "sqlite" as const;

  constructor(
    private readonly shared: Shared,
    /** True for the handle a transaction's callback gets. */
    private readonly inTransaction: boolean,
  ) {}

  get orm(): Orm {
    return this.shared.orm;
  }

  /** The better-sqlite3 connection (sqliteClient() is how other modules get it). */
  get client(): Database.Database {
    return this.shared.client;
  }

  async all<T>(query: SQL): Promise<T[]> {
    const q = dialect.sqlToQuery(query);
    return this.prepare(q.sql).all(q.params) as T[];
  }

  async get<T>(query: SQL): Promise<T | undefined> {
    const q = dialect.sqlToQuery(query);
    return this.prepare(q.sql).get(q.params) as T | undefined;
  }

  async run(query: SQL): Promise<{ changes: number }> {
    const q = dialect.sqlToQuery(query);
    return { changes: this.prepare(q.sql).run(q.params).changes };
  }

  async transaction<T>(fn: (tx: Db) => Promise<T>, opts: TransactionOptions = {}): Promise<T> {
    if (this.inTransaction) return fn(this);
    // Wait for the open transaction, then take the lock with no await in between: two callers
    // that both found it free must not both begin.
    while (this.shared.lock) await this.shared.lock;
    let release!: () => void;
    this.shared.lock = new Promise((resolve) => {
      release = resolve;
    });
    const { client } = this.shared;
    // Inside a transaction begun on the connection itself (a benchmark that rolls its work
    // back), nest as a savepoint, as better-sqlite3's own transactions do.
    const nested = client.inTransaction;
    try {
      client.exec(nested ? "SAVEPOINT db_transaction" : opts.immediate ? "BEGIN IMMEDIATE" : "BEGIN");
      try {
        const result = await fn(new SqliteDb(this.shared, true));
        client.exec(nested ? "RELEASE db_transaction" : "COMMIT");
        return result;
      } catch (err) {
        if (nested) client.exec("ROLLBACK TO db_transaction; RELEASE db_transaction");
        else if (client.inTransaction) client.exec("ROLLBACK");
        throw err;
      }
    } finally {
      this.shared.lock = null;
      release();
    }
  }

  async close(): Promise<void> {
    this.shared.client.close();
  }

  private prepare(text: string): Database.Statement {
    let stmt = this.shared.statements.get(text);
    if (!stmt) {
      if (this.shared.statements.size >= MAX_STATEMENTS) this.shared.statements.clear();
      stmt = this.shared.client.prepare(text);
      this.shared.statements.set(text, stmt);
    }
    return stmt;
  }
}

/** A Db over an open better-sqlite3 connection (pragmas and migrations are open.ts's job). */
export function sqliteDb(client: Database.Database): Db {
  const orm = drizzle(client, { schema }) as unknown as Orm;
  return new SqliteDb({ client, orm, statements: new Map(), lock: null }, false);
}

/**
 * The better-sqlite3 connection behind a SQLite handle, for the SQLite-only modules (prepared
 * hot-path statements, SQLite-specific SQL). Throws on any other engine's handle.
 */
export function sqliteClient(db: Db): Database.Database {
  if (!(db instanceof SqliteDb)) throw new Error(`this code path is SQLite-only; the database is ${db.dialect}`);
  return db.client;
}
