import type { Db } from "../db/open.ts";

// Named integers in job_state that the spend jobs share.

/** Highest call id already aggregated into rollup_every_dim_15m. */
export const ROLLUP_WATERMARK = "rollup_watermark";
/**
 * Retention has deleted rolled-up calls created before this instant (bucket-aligned). Buckets
 * before it hold calls that no longer exist, so they are never rebuilt or re-priced from raw calls.
 */
export const RETENTION_HORIZON = "retention_horizon";

export function readState(db: Db, name: string): number {
  const client = db.$client;
  const row = client.prepare("SELECT value FROM job_state WHERE name = ?").get(name) as { value: number } | undefined;
  return row?.value ?? 0;
}

export function writeState(db: Db, name: string, value: number): void {
  const client = db.$client;
  client
    .prepare("INSERT INTO job_state (name, value) VALUES (?, ?) ON CONFLICT (name) DO UPDATE SET value = excluded.value")
    .run(name, value);
}
