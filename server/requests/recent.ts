import { sql } from "drizzle-orm";
import type { Db } from "../db/database.ts";

// Cheap reads of the newest calls for the overview: whether any call exists (for the empty
// state) and latency percentiles of the latest successful calls. Percentiles cannot come from
// rollups (a sum of durations has no p95), so they come from a bounded newest-first walk of
// calls_created_idx instead of a scan of the day.

const LATENCY_SAMPLE = 1_000;

export async function hasAnyCall(db: Db): Promise<boolean> {
  // A row or none: EXISTS is 0/1 on SQLite but a boolean on PostgreSQL.
  return (await db.get(sql`SELECT 1 AS one FROM calls LIMIT 1`)) !== undefined;
}

export interface LatencyStats {
  /** Calls in the sample (at most LATENCY_SAMPLE). */
  sample: number;
  p50: number | null;
  p95: number | null;
  ttftP50: number | null;
}

/** Nearest-rank percentile of an ascending list. */
function percentile(sorted: number[], p: number): number | null {
  if (sorted.length === 0) return null;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

export async function recentLatency(db: Db, sample = LATENCY_SAMPLE): Promise<LatencyStats> {
  const rows = await db.all<{ d: number; t: number | null }>(
    sql`SELECT duration_ms AS d, ttft_ms AS t FROM calls
       WHERE status < 400 AND error_type IS NULL
       ORDER BY created_at DESC, id DESC LIMIT ${sample}`,
  );
  const durations = rows.map((r) => r.d).sort((a, b) => a - b);
  const ttfts = rows.flatMap((r) => (r.t === null ? [] : [r.t])).sort((a, b) => a - b);
  return { sample: rows.length, p50: percentile(durations, 50), p95: percentile(durations, 95), ttftP50: percentile(ttfts, 50) };
}
