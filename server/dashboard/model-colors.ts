import type { Db } from "../db/open.ts";
import { ROLLUP_WATERMARK, readState } from "../spend/job-state.ts";
import { assignModelColors } from "../../views/components/model-color.ts";

// Feeds the dashboard's palette (views/components/model-color.ts) with every model in the order
// it was first used, so colours are distinct for the first 16 models and do not move: a model's
// first day in the rollups does not change (buckets are kept forever, repricing keeps models).
// The one exception: a model first used on the same UTC day as others, sorting before them by
// name, shifts them once that day (daily rows: reading the 15-minute ones would cost ~100×).

/**
 * Returns a function to call before rendering a page: it re-reads the model order (a ~1 ms
 * query) only when a rollup has run since the last read, since only a rollup adds models.
 */
export function modelColorRefresher(db: Db): () => void {
  const client = db.$client;
  // usage_dim_buckets_daily's key starts (dim, bucket_start): this reads only the model rows.
  const models = client.prepare("SELECT value FROM usage_dim_buckets_daily WHERE dim = 'model' AND value <> '' GROUP BY value ORDER BY MIN(bucket_start), value");
  let seenWatermark: number | null = null;
  return () => {
    const watermark = readState(client, ROLLUP_WATERMARK);
    if (watermark === seenWatermark) return;
    seenWatermark = watermark;
    assignModelColors(models.pluck().all() as string[]);
  };
}
