import { sql } from "drizzle-orm";
import type { Db } from "../db/database.ts";

// Named integers in job_state that the spend jobs share.

/** Highest call id already aggregated into rollup_every_dim_15m. */
export const ROLLUP_WATERMARK = "rollup_watermark";
/**
 * Retention has deleted rolled-up calls created before this instant (bucket-aligned). Buckets
 * before it hold calls that no longer exist, so they are never rebuilt or re-priced from raw calls.
 */
export const RETENTION_HORIZON = "retention_horizon";

export async function readState(db: Db, name: string): Promise<number> {
  const row = await db.get<{ value: number }>(sql`SELECT value FROM job_state WHERE name = ${name}`);
  return row?.value ?? 0;
}

export async function writeState(db: Db, name: string, value: number): Promise<void> {
  await db.run(sql`INSERT INTO job_state (name, value) VALUES (${name}, ${value}) ON CONFLICT (name) DO UPDATE SET value = excluded.value`);
}
