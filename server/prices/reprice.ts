import { sql } from "drizzle-orm";
import type { Db } from "../db/database.ts";
import { ApiError } from "../errors.ts";
import { BUCKET_MS, ceilTo, floorToBucket, toIso } from "../time.ts";
import { rebuildBuckets, rollupPending } from "../usage/rollups/buckets.ts";
import { RETENTION_HORIZON, readState } from "../job-runs/job-state.ts";
import { PriceBook } from "./price-book.ts";

// Re-price the calls of a time range with the catalog as it is now (after a price fix or a price
// added for a model that had none), then rebuild that range's buckets so rollups follow.
// Idempotent: a second run finds every cost already right and rebuilds the same buckets.

export interface RepriceResult {
  from: number;
  to: number;
  callsScanned: number;
  callsRepriced: number;
}

const PAGE = 5_000;

interface CallCostRow {
  id: number;
  model: string | null;
  createdAt: number;
  promptTokens: number | null;
  completionTokens: number | null;
  costNano: number | null;
}

export async function repriceRange(db: Db, from: number, to: number): Promise<RepriceResult> {
  if (from >= to) {
    throw new ApiError({ status: 400, type: "invalid_request_error", code: "invalid_range", message: "from must be before to" });
  }
  const page = (tx: Db, after: { createdAt: number; id: number }) =>
    tx.all<CallCostRow>(
      sql`SELECT id, model, created_at AS "createdAt", prompt_tokens AS "promptTokens", completion_tokens AS "completionTokens", cost_nano AS "costNano"
     FROM calls WHERE created_at >= ${from} AND created_at < ${to} AND (created_at, id) > (${after.createdAt}, ${after.id}) ORDER BY created_at, id LIMIT ${sql.raw(String(PAGE))}`,
    );

  // One write transaction: readers see old costs and buckets or new ones, never a mix. It holds
  // the write lock for the whole range; the recorder queues (and retries) meanwhile.
  return db.transaction(
    async (tx): Promise<RepriceResult> => {
      const horizon = await readState(tx, RETENTION_HORIZON);
      if (from < horizon) {
        throw new ApiError({ status: 400, type: "invalid_request_error", code: "before_retention", message: `calls before ${toIso(horizon)} were deleted by retention; only their rollups remain, so they cannot be re-priced` });
      }
      // Prices cannot change inside this write transaction: load the catalog once, not per call.
      const book = await PriceBook.load(tx);
      await rollupPending(tx); // so the rebuilt buckets cover every call at or below one watermark
      let callsScanned = 0;
      let callsRepriced = 0;
      let after = { createdAt: from - 1, id: 0 };
      for (;;) {
        const rows = await page(tx, after);
        for (const row of rows) {
          const cost = book.costOf(row);
          if (cost !== row.costNano) {
            await tx.run(sql`UPDATE calls SET cost_nano = ${cost} WHERE id = ${row.id}`);
            callsRepriced++;
          }
        }
        callsScanned += rows.length;
        if (rows.length < PAGE) break;
        after = rows[rows.length - 1]!;
      }
      // Any instant works: the buckets around an unaligned edge are rebuilt whole from their raw
      // calls, the re-priced ones and the others alike.
      await rebuildBuckets(tx, floorToBucket(from), ceilTo(to, BUCKET_MS));
      return { from, to, callsScanned, callsRepriced };
    },
    { immediate: true },
  );
}
