import { sql } from "drizzle-orm";
import type { Db } from "../db/database.ts";

/**
 * Make the transaction `tx` read every statement from one snapshot, so reads that must agree (a
 * count and a page, a total and its groups) do. Call first in the transaction. SQLite's read
 * transaction does so already; PostgreSQL's default (READ COMMITTED) takes a new snapshot per
 * statement, REPEATABLE READ keeps the first one.
 */
export async function readSnapshot(tx: Db): Promise<void> {
  if (tx.dialect === "postgres") await tx.run(sql`SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY`);
}
