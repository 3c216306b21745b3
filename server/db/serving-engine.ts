import type { Config } from "../config.ts";
import { StartupError } from "../startup-error.ts";
import { connectDatabase } from "./connect.ts";
import { engineFor, maskDatabaseUrl } from "./engine.ts";

// What the server checks about DATABASE_URL before it builds anything on it. The server's threads
// (recorder writer, readers, usage queries) still open SQLite only, so a postgres:// URL is
// checked (reachable, migrated) and then refused with one line, rather than taken for a file
// name; an unsupported scheme is refused the same way.

export async function checkServingEngine(config: Pick<Config, "DATABASE_URL" | "PG_POOL_MAX">): Promise<void> {
  let kind: "sqlite" | "postgres";
  try {
    kind = engineFor(config.DATABASE_URL).kind;
  } catch (err) {
    throw new StartupError((err as Error).message);
  }
  if (kind === "sqlite") return;
  // Rejects with a StartupError naming DATABASE_URL, its password masked, when unreachable.
  const db = await connectDatabase(config.DATABASE_URL, { poolMax: 1 });
  await db.close();
  throw new StartupError(
    `DATABASE_URL=${maskDatabaseUrl(config.DATABASE_URL)}: PostgreSQL is reachable and migrated, but the server cannot serve on it yet (its recorder and readers run on SQLite only)`,
  );
}
