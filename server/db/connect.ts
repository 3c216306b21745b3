import type { Db } from "./database.ts";
import { engineFor } from "./engine.ts";
import { openDatabase } from "./open.ts";
import { openPostgresDb } from "./postgres-db.ts";

// One entry point for either engine: DATABASE_URL decides (engine.ts). SQLite opens synchronously
// and stays on openDatabase for its existing callers; this is the async door that also takes
// postgres:// URLs. A PostgreSQL that cannot be reached rejects with PostgresUnavailableError, a
// StartupError whose one line names DATABASE_URL with the password masked.

export interface ConnectOptions {
  /** false: apply no migrations (a reader opened after the writer migrated). */
  migrate?: boolean;
  /** Most pooled connections on PostgreSQL (PG_POOL_MAX); unused on SQLite. */
  poolMax: number;
  /** ms to wait for a PostgreSQL connection before giving up. */
  connectTimeoutMs?: number;
}

export async function connectDatabase(url: string, opts: ConnectOptions): Promise<Db> {
  const engine = engineFor(url);
  if (engine.kind === "sqlite") return openDatabase(url, { migrate: opts.migrate });
  return openPostgresDb(engine.url, opts);
}
