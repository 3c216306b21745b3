import type { Db } from "../db/open.ts";
import { RETENTION_HORIZON, readState } from "../job-runs/job-state.ts";
import { PriceBook } from "./price-book.ts";
import { sql } from "drizzle-orm";

// What a re-price of [from, to) would change, without changing anything: how many calls get a
// different cost, and the money before and after. The Prices page shows this before the admin
// confirms the re-price (reprice.ts), which applies exactly this computation.

export interface RepricePreview {
  from: number;
  to: number;
  callsScanned: number;
  callsChanged: number;
  /** Calls that were unpriced (no cost) and get one. */
  callsNewlyPriced: number;
  /** Sum of the changed calls' costs before and after, nano-USD (unpriced counts as 0 before). */
  beforeNano: bigint;
  afterNano: bigint;
  /** Calls before this instant were deleted by retention: a range reaching before it cannot be re-priced. */
  retentionHorizon: number;
}

const PAGE = 5_000;

export async function previewReprice(db: Db, from: number, to: number): Promise<RepricePreview> {
  const book = await PriceBook.load(db);
  type Row = { id: number; model: string | null; createdAt: number; promptTokens: number | null; completionTokens: number | null; costNano: number | null };
  const page = (tx: Db, after: { createdAt: number; id: number }) =>
    tx.all<Row>(
      sql`SELECT id, model, created_at AS "createdAt", prompt_tokens AS "promptTokens", completion_tokens AS "completionTokens", cost_nano AS "costNano"
          FROM calls WHERE created_at >= ${from} AND created_at < ${to} AND (created_at, id) > (${after.createdAt}, ${after.id}) ORDER BY created_at, id LIMIT ${PAGE}`,
    );
  const result: RepricePreview = { from, to, callsScanned: 0, callsChanged: 0, callsNewlyPriced: 0, beforeNano: 0n, afterNano: 0n, retentionHorizon: 0 };
  // One read transaction: the counts describe one snapshot of the calls.
  await db.transaction(async (tx) => {
    result.retentionHorizon = await readState(tx, RETENTION_HORIZON);
    let after = { createdAt: from - 1, id: 0 };
    for (;;) {
      const rows = await page(tx, after);
      for (const row of rows) {
        const cost = book.costOf(row);
        if (cost === row.costNano) continue;
        result.callsChanged++;
        if (row.costNano === null) result.callsNewlyPriced++;
        result.beforeNano += BigInt(row.costNano ?? 0);
        result.afterNano += BigInt(cost ?? 0);
      }
      result.callsScanned += rows.length;
      if (rows.length < PAGE) break;
      after = rows[rows.length - 1]!;
    }
  }, { snapshot: true });
  return result;
}
