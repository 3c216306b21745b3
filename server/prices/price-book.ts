import { sql } from "drizzle-orm";
import type { Db } from "../db/database.ts";
import { prices, type NewCall, type Price } from "../db/schema.ts";
import { MoneyError, callCostNano } from "../money.ts";

// In-memory view of the effective-dated price catalog, used to price each call as it is
// recorded (Recorder's priceCall hook), to re-price ranges and by the price sync.

/** When two rows of a model start at the same instant: admin beats sync beats seed. */
const SOURCE_RANK: Record<Price["source"], number> = { seed: 0, sync: 1, admin: 2 };

export type PricedCall = Pick<NewCall, "model" | "createdAt" | "promptTokens" | "completionTokens">;

export class PriceBook {
  // Per model, ordered so that the row in effect at t is the last one with effectiveFrom <= t.
  private byModel = new Map<string, Price[]>();
  private version = "";

  /**
   * Lookups use the catalog as of the last refresh(): a page or an API request refreshes once
   * before its lookups, the recorder once per batch (a version check per row was a quarter of
   * its write time).
   */
  constructor(private readonly db: Db) {}

  /** A book loaded with the current catalog. */
  static async load(db: Db): Promise<PriceBook> {
    const book = new PriceBook(db);
    await book.refresh();
    return book;
  }

  /** Reload if the prices table changed since the last load. */
  async refresh(): Promise<void> {
    // prices is append-only, so max(id) and count(*) change whenever any process adds (or an
    // operator deletes) a row. Checking costs a few µs, so a refresh sees the latest catalog
    // even when the price sync ran in another process (npm run job -- prices-sync).
    const version = (await this.db.get<{ v: string }>(sql`SELECT COALESCE(MAX(id), 0) || ':' || COUNT(*) AS v FROM prices`))!.v;
    if (version === this.version) return;
    const byModel = new Map<string, Price[]>();
    for (const row of await this.db.orm.select().from(prices)) {
      const list = byModel.get(row.model) ?? [];
      list.push(row);
      byModel.set(row.model, list);
    }
    for (const list of byModel.values()) {
      list.sort((a, b) => a.effectiveFrom - b.effectiveFrom || SOURCE_RANK[a.source] - SOURCE_RANK[b.source] || a.id - b.id);
    }
    this.byModel = byModel;
    this.version = version;
  }

  /** The price row in effect for `model` at `at`, or null when the model has none yet. */
  priceAt(model: string, at: number): Price | null {
    const list = this.byModel.get(model);
    if (!list) return null;
    let lo = 0;
    let hi = list.length; // first index with effectiveFrom > at
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (list[mid]!.effectiveFrom <= at) lo = mid + 1;
      else hi = mid;
    }
    return lo === 0 ? null : list[lo - 1]!;
  }

  /**
   * Cost in nano-USD, or null for a call without a model or of a model without a price (never 0).
   * Never throws on a malformed row (negative tokens): it runs inside the recorder's batch write,
   * where a throw would fail the whole batch; such a call shows up as unpriced instead.
   */
  costOf(call: PricedCall): number | null {
    if (!call.model) return null;
    const price = this.priceAt(call.model, call.createdAt);
    if (!price) return null;
    try {
      return callCostNano(call.promptTokens, call.completionTokens, price.inputMicroPerMtok, price.outputMicroPerMtok);
    } catch (err) {
      if (err instanceof MoneyError) return null;
      throw err;
    }
  }

  /** Whether an admin ever set a price for `model` (the price sync then leaves it alone). */
  hasAdminPrice(model: string): boolean {
    return (this.byModel.get(model) ?? []).some((p) => p.source === "admin");
  }
}
