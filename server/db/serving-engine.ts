import type { Config } from "../config.ts";
import { StartupError } from "../startup-error.ts";
import { connectDatabase } from "./connect.ts";
import { connectionBudget } from "./connection-budget.ts";
import { engineFor } from "./engine.ts";

// What the server checks about DATABASE_URL before it starts any thread on it, so that a wrong
// setting is one line on the serving thread rather than a worker's failure: the scheme, and on
// PostgreSQL that PG_POOL_MAX can give every thread a connection and that the database is
// reachable. Reaching it applies pending migrations (under a lock, once however many instances
// start together), so the threads then open it without migrating.

export async function checkServingEngine(config: Pick<Config, "DATABASE_URL" | "PG_POOL_MAX" | "READER_THREADS">): Promise<void> {
  let kind: "sqlite" | "postgres";
  try {
    kind = engineFor(config.DATABASE_URL).kind;
  } catch (err) {
    throw new StartupError((err as Error).message);
  }
  if (kind === "sqlite") return;
  connectionBudget(config);
  // Rejects with a StartupError naming DATABASE_URL, its password masked, when unreachable.
  const db = await connectDatabase(config.DATABASE_URL, { poolMax: 1 });
  await db.close();
}
