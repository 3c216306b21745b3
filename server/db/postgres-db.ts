import type { SQL } from "drizzle-orm";
import { drizzle } from "drizzle-orm/node-postgres";
import { PgDialect } from "drizzle-orm/pg-core";
import type pg from "pg";
import type { Db, Orm, TransactionOptions } from "./database.ts";
import { openPostgres, type OpenPostgresOptions } from "./postgres.ts";
import * as schema from "./schema-pg.ts";

// The Db handle on a node-postgres pool. Statements outside a transaction each take whatever
// pooled connection is free; a transaction checks one connection out for its whole life and its
// callback gets a handle bound to that connection, so its statements cannot land on another.

const dialect = new PgDialect();

/**
 * Key of the transaction-level advisory lock an `immediate` transaction takes first. SQLite's
 * BEGIN IMMEDIATE makes every such transaction wait for the one in progress (one write lock per
 * file); one key shared by all of them gives the same mutual exclusion across every instance on
 * the database, and is released with the transaction, also when its connection dies. A
 * constant that no other lock in the code uses (the migration lock is 7_316_000_001).
 */
const IMMEDIATE_LOCK = 7_316_000_002;

/**
 * BEGIN with the transaction's mode and SET LOCALs, as one simple-protocol query (one round trip;
 * apart they were up to three of a read's six to eight). Names and values are checked, as they
 * cannot be bound parameters.
 */
function beginStatement(opts: TransactionOptions): string {
  const statements = [opts.snapshot ? "BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY" : "BEGIN"];
  for (const [name, value] of Object.entries(opts.local ?? {})) {
    if (!/^[a-z_]+$/.test(name) || !/^[a-z0-9_]+$/i.test(value)) throw new Error(`not a setting: ${name} = ${value}`);
    statements.push(`SET LOCAL ${name} = ${value}`);
  }
  return statements.join("; ");
}

/** Where a handle sends its statements: the pool, or the one client of a transaction. */
type Queryable = pg.Pool | pg.PoolClient;

// Why the cast to Orm (drizzle's SQLite builder type) is sound: every store builds its queries
// from the table objects of schema.ts, and drizzle's PostgreSQL dialect renders those objects by
// their table and column names, which schema-pg.ts declares identically (test/db/schema-parity
// fails when they differ). The builder methods the stores may use on a Db (awaited select,
// insert … returning, update, delete, onConflictDoNothing/DoUpdate) exist with the same shapes on
// both builders; SQLite's synchronous .all()/.get()/.run() do not, and database.ts forbids them.
function ormOver(client: Queryable): Orm {
  return drizzle({ client, schema }) as unknown as Orm;
}

class PostgresDb implements Db {
  readonly dialect = "postgres" as const;
  readonly orm: Orm;

  constructor(
    private readonly pool: pg.Pool,
    /** The transaction's connection for the handle a transaction's callback gets; else null. */
    private readonly txClient: pg.PoolClient | null,
  ) {
    this.orm = ormOver(txClient ?? pool);
  }

  private async query<T>(query: SQL): Promise<pg.QueryResult<T & pg.QueryResultRow>> {
    const q = dialect.sqlToQuery(query);
    return (this.txClient ?? this.pool).query<T & pg.QueryResultRow>(q.sql, q.params);
  }

  async all<T>(query: SQL): Promise<T[]> {
    return (await this.query<T>(query)).rows;
  }

  async get<T>(query: SQL): Promise<T | undefined> {
    return (await this.query<T>(query)).rows[0];
  }

  async run(query: SQL): Promise<{ changes: number }> {
    return { changes: (await this.query(query)).rowCount ?? 0 };
  }

  async transaction<T>(fn: (tx: Db) => Promise<T>, opts: TransactionOptions = {}): Promise<T> {
    if (this.txClient) {
      // A joined transaction keeps the mode it began with; asking for another is a mistake.
      if (opts.snapshot || opts.local) throw new Error("a snapshot or SET LOCAL transaction must not be started inside another transaction");
      return fn(this);
    }
    const client = await this.pool.connect();
    let broken = false;
    try {
      await client.query(beginStatement(opts));
      try {
        if (opts.immediate) await client.query("SELECT pg_advisory_xact_lock($1)", [IMMEDIATE_LOCK]);
        const result = await fn(new PostgresDb(this.pool, client));
        await client.query("COMMIT");
        return result;
      } catch (err) {
        // A connection whose ROLLBACK fails is in an unknown state: destroy it, not pool it.
        await client.query("ROLLBACK").catch(() => {
          broken = true;
        });
        throw err;
      }
    } finally {
      client.release(broken);
    }
  }

  /** The pool, on the handle opened with it (not on a transaction's). */
  get ownPool(): pg.Pool | null {
    return this.txClient ? null : this.pool;
  }

  async close(): Promise<void> {
    if (this.txClient) throw new Error("close() on a transaction's handle; close the handle it came from");
    await this.pool.end();
  }
}

/**
 * The node-postgres pool behind a PostgreSQL handle, for the PostgreSQL-only hot path (the
 * recorder's batch insert, which checks out a connection of its own). Throws on any other handle.
 */
export function pgPool(db: Db): pg.Pool {
  if (!(db instanceof PostgresDb) || db.ownPool === null) throw new Error(`this code path is PostgreSQL-only; the database is ${db.dialect}`);
  return db.ownPool;
}

/** Open DATABASE_URL's PostgreSQL (bounded pool, migrations under a lock) as a Db. */
export async function openPostgresDb(url: string, opts: OpenPostgresOptions): Promise<Db> {
  const { db } = await openPostgres(url, opts);
  return new PostgresDb(db.$client, null);
}
