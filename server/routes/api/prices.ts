import { Hono } from "hono";
import type { AppDeps } from "../../app.ts";
import { PriceBook } from "../../spend/price-book.ts";
import { parseNewPrice } from "../../spend/price-input.ts";
import { insertPrice, listPrices, priceJson } from "../../spend/prices-store.ts";
import { repriceRange } from "../../spend/reprice.ts";
import { badParam, parsePage, parseRange, parseTz, rejectUnknownParams } from "../../spend/query-params.ts";
import { toIso } from "../../time.ts";

/** GET /api/prices, POST /api/prices (admin price), POST /api/prices/reprice. */
export function pricesRoutes({ db, clock, config }: Pick<AppDeps, "db" | "clock" | "config">): Hono {
  const app = new Hono();
  const book = new PriceBook(db);

  app.get("/", (c) => {
    const query = c.req.query();
    rejectUnknownParams(query, ["model", "limit", "cursor"]);
    const page = parsePage(query, 100, 1000);
    const rows = listPrices(db, { ...page, model: query.model });
    const now = clock.now();
    return c.json({
      data: rows.map((row) => priceJson(row, book.priceAt(row.model, now)?.id === row.id)),
      next_cursor: rows.length === page.limit ? String(rows[rows.length - 1]!.id) : null,
    });
  });

  app.post("/", async (c) => {
    let body: unknown;
    try {
      body = await c.req.json();
    } catch {
      throw badParam("body", "must be valid JSON");
    }
    const now = clock.now();
    const row = insertPrice(db, parseNewPrice(body, config.REPORT_TZ, now));
    // New calls pick the row up at once (PriceBook notices the table changed); calls already
    // recorded keep their cost until POST /api/prices/reprice covers them.
    return c.json(priceJson(row, book.priceAt(row.model, now)?.id === row.id), 201);
  });

  app.post("/reprice", (c) => {
    const query = c.req.query();
    rejectUnknownParams(query, ["from", "to", "tz"]);
    for (const name of ["from", "to"] as const) if (query[name] === undefined) throw badParam(name, "is required");
    const { from, to } = parseRange(query, parseTz(query, config.REPORT_TZ), clock.now());
    const result = repriceRange(db, from, to);
    return c.json({ from: toIso(from), to: toIso(to), calls_scanned: result.callsScanned, calls_repriced: result.callsRepriced });
  });

  return app;
}
