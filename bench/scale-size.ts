import { existsSync, statSync } from "node:fs";
import { sql } from "drizzle-orm";
import type { Db } from "../server/db/database.ts";

// Bytes on disk behind the recorded calls, after a run: the calls table (every partition on
// PostgreSQL) with its indexes, and the rollup tables with theirs. Bodies are not counted: with
// the default LOG_BODIES=errors and no failed calls there are none.

export interface StoredBytes {
  calls: number;
  rollups: number;
  /** SQLite only: the whole database file after a checkpoint (catalogue, sessions… included). */
  file: number | null;
}

export async function postgresBytes(db: Db): Promise<StoredBytes> {
  // pg_total_relation_size of each leaf partition includes its indexes and TOAST.
  const calls = await db.get<{ bytes: string }>(sql`SELECT COALESCE(SUM(pg_total_relation_size(relid)), 0)::text AS bytes FROM pg_partition_tree('calls')`);
  const rollups = await db.get<{ bytes: string }>(
    sql`SELECT COALESCE(SUM(pg_total_relation_size(c.oid)), 0)::text AS bytes FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE n.nspname = current_schema() AND c.relkind = 'r' AND c.relname LIKE 'rollup\\_%'`,
  );
  return { calls: Number(calls?.bytes ?? 0), rollups: Number(rollups?.bytes ?? 0), file: null };
}

/**
 * SQLite: checkpoint the WAL into the file first (the server checkpoints on a clean stop; this
 * makes sure), then the file's size, and per table (with its indexes) from the dbstat table.
 */
export async function sqliteBytes(db: Db, path: string): Promise<StoredBytes> {
  await db.all(sql`PRAGMA wal_checkpoint(TRUNCATE)`);
  const perTable = await db.all<{ tbl: string; bytes: number }>(
    sql`SELECT s.tbl_name AS tbl, SUM(d.pgsize) AS bytes FROM dbstat d JOIN sqlite_schema s ON s.name = d.name GROUP BY s.tbl_name`,
  );
  const sum = (keep: (t: string) => boolean) => perTable.filter((r) => keep(r.tbl)).reduce((n, r) => n + r.bytes, 0);
  const wal = `${path}-wal`;
  const file = statSync(path).size + (existsSync(wal) ? statSync(wal).size : 0);
  return { calls: sum((t) => t === "calls"), rollups: sum((t) => t.startsWith("rollup_")), file };
}
