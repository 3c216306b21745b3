import { sql } from "drizzle-orm";
import type { Db } from "../db/database.ts";
import { ModelPalette } from "./palette.ts";
import { readRollupWatermark } from "./rollups/not-rolled-up.ts";

// The dashboard's palette (palette.ts) gets every model in the order it was first used, so
// colours are distinct for the first 16 models and do not move: a model's first day in the
// rollups does not change (buckets are kept forever, repricing keeps models). The one exception:
// a model first used on the same UTC day as others, sorting before them by name, shifts them once
// that day (daily rows: reading the 15-minute ones would cost ~100×).

/**
 * Returns a function that gives the current palette for a page render. It re-reads the model
 * order (a ~1 ms query) only when a rollup has run since the last read, since only a rollup adds
 * models; between rollups every render shares one immutable palette.
 */
export function modelPaletteReader(db: Db): () => Promise<ModelPalette> {
  // rollup_one_dim_day's key starts (dim, bucket_start): this reads only the model rows.
  const models = sql`SELECT value FROM rollup_one_dim_day WHERE dim = 'model' AND value <> '' GROUP BY value ORDER BY MIN(bucket_start), value`;
  let seenWatermark: number | null = null;
  let palette = new ModelPalette();
  return async () => {
    // Each engine's own watermark: on PostgreSQL the rollup moves a commit_xid, not a call id.
    const watermark = await readRollupWatermark(db);
    if (watermark !== seenWatermark) {
      const rows = await db.all<{ value: string }>(models);
      seenWatermark = watermark;
      palette = new ModelPalette(rows.map((r) => r.value));
    }
    return palette;
  };
}
