import type { Db } from "../server/db/database.ts";
import type { Logger } from "../server/log.ts";
import { startJobRun } from "../server/job-runs/job-runs.ts";
import { PriceBook } from "../server/prices/price-book.ts";
import { insertPrice } from "../server/prices/prices-store.ts";
import { parseModelsPricing, type UpstreamPrice } from "../server/prices/upstream-pricing.ts";

// prices-sync: read Nscale's GET /v1/models pricing and add a 'sync' price row, effective now,
// for every model whose price differs from the one in effect. Models with an admin price are
// never touched: an operator's correction must not be undone by the next daily sync.

export interface PricesSyncOptions {
  baseUrl: string;
  apiKey: string | undefined;
  log: Logger;
  timeoutMs?: number;
}

export interface PricesSyncResult {
  /** False when no UPSTREAM_API_KEY is configured (GET /models answers 401 without one). */
  ran: boolean;
  added: string[];
  unchanged: number;
  adminKept: number;
  skipped: number;
}

export async function runPricesSync(db: Db, now: number, opts: PricesSyncOptions): Promise<PricesSyncResult> {
  if (!opts.apiKey) {
    opts.log.info("prices-sync: UPSTREAM_API_KEY is not set, skipping (prices stay as seeded or set by an admin)");
    return { ran: false, added: [], unchanged: 0, adminKept: 0, skipped: 0 };
  }
  const run = await startJobRun(db, "prices-sync", now);
  try {
    const body = await fetchModels(opts.baseUrl, opts.apiKey, opts.timeoutMs ?? 30_000);
    const parsed = parseModelsPricing(body);
    for (const line of parsed.skipped) opts.log.warn(`prices-sync: skipped ${line}`);
    const result = { ran: true, skipped: parsed.skipped.length, ...(await applyUpstreamPrices(db, parsed.prices, now)) };
    for (const model of result.added) opts.log.info(`prices-sync: new price for ${model}`);
    await run.succeed(result.added.length);
    return result;
  } catch (err) {
    await run.fail(err);
    throw err;
  }
}

async function fetchModels(baseUrl: string, apiKey: string, timeoutMs: number): Promise<unknown> {
  const url = `${baseUrl.replace(/\/+$/, "")}/models`;
  const res = await fetch(url, { headers: { authorization: `Bearer ${apiKey}` }, signal: AbortSignal.timeout(timeoutMs) });
  if (!res.ok) throw new Error(`GET ${url} answered ${res.status}`);
  return res.json();
}

/** Add a 'sync' row for each changed price, all in one transaction. */
async function applyUpstreamPrices(db: Db, upstream: UpstreamPrice[], now: number) {
  const added: string[] = [];
  let unchanged = 0;
  let adminKept = 0;
  await db.transaction(
    async (tx) => {
      const book = new PriceBook(tx);
      for (const p of upstream) {
        await book.refresh(); // the catalog as of now, this loop's own rows included
        if (book.hasAdminPrice(p.model)) {
          adminKept++;
          continue;
        }
        const current = book.priceAt(p.model, now);
        if (current && current.inputMicroPerMtok === p.inputMicroPerMtok && current.outputMicroPerMtok === p.outputMicroPerMtok) {
          unchanged++;
          continue;
        }
        await insertPrice(tx, { ...p, effectiveFrom: now, source: "sync", createdAt: now });
        added.push(p.model);
      }
    },
    { immediate: true },
  );
  return { added, unchanged, adminKept };
}
