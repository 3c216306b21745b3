import { and, desc, eq, lt } from "drizzle-orm";
import { z } from "zod";
import type { Db } from "../db/database.ts";
import { prices, type Price } from "../db/schema.ts";
import { formatMicroAsUsd } from "../money.ts";
import { toIso } from "../time.ts";

// Reads and writes of the prices table, and the JSON shape of a price row.

export type NewPrice = Pick<Price, "model" | "inputMicroPerMtok" | "outputMicroPerMtok" | "effectiveFrom" | "source" | "createdAt">;

export async function insertPrice(db: Db, row: NewPrice): Promise<Price> {
  const [price] = await db.orm.insert(prices).values({ ...row, currency: "USD" }).returning();
  return price!;
}

/** Newest rows first, keyset-paged by id. */
export function listPrices(db: Db, opts: { limit: number; before?: number; model?: string }): Promise<Price[]> {
  const where = and(opts.before !== undefined ? lt(prices.id, opts.before) : undefined, opts.model ? eq(prices.model, opts.model) : undefined);
  return db.orm.select().from(prices).where(where).orderBy(desc(prices.id)).limit(opts.limit);
}

export const priceJsonSchema = z.object({
  id: z.number().int(),
  model: z.string(),
  input_usd_per_mtok: z.string().meta({ description: "USD per 1M prompt tokens", example: "0.03" }),
  output_usd_per_mtok: z.string().meta({ description: "USD per 1M completion tokens", example: "0.03" }),
  currency: z.string(),
  effective_from: z.string(),
  source: z.enum(["seed", "sync", "admin"]),
  created_at: z.string(),
  in_effect: z.boolean().meta({ description: "Whether this row prices a call of its model made now" }),
});

export function priceJson(row: Price, inEffect: boolean): z.infer<typeof priceJsonSchema> {
  return {
    id: row.id,
    model: row.model,
    input_usd_per_mtok: formatMicroAsUsd(row.inputMicroPerMtok),
    output_usd_per_mtok: formatMicroAsUsd(row.outputMicroPerMtok),
    currency: row.currency,
    effective_from: toIso(row.effectiveFrom),
    source: row.source,
    created_at: toIso(row.createdAt),
    // Whether this row is the one that prices a call of its model made now.
    in_effect: inEffect,
  };
}
