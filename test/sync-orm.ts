import { drizzle, type BetterSQLite3Database } from "drizzle-orm/better-sqlite3";
import type { Db } from "../server/db/database.ts";
import * as schema from "../server/db/schema.ts";
import { sqliteClient } from "../server/db/sqlite.ts";

// Tests look into the SQLite file synchronously (a waitFor that polls for a row, a fixture that
// inserts rows in bulk): Drizzle's synchronous API over the handle's own connection.
const instances = new WeakMap<Db, BetterSQLite3Database<typeof schema>>();

export function syncOrm(db: Db): BetterSQLite3Database<typeof schema> {
  let orm = instances.get(db);
  if (!orm) {
    orm = drizzle(sqliteClient(db), { schema });
    instances.set(db, orm);
  }
  return orm;
}
