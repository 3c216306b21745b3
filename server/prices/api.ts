import { createRoute, z } from "@hono/zod-openapi";
import type { AppDeps } from "../app.ts";
import { PriceBook } from "./price-book.ts";
import { newPriceBody } from "./price-input.ts";
import { insertPrice, listPrices, priceJson, priceJsonSchema } from "./prices-store.ts";
import { repriceRange } from "./reprice.ts";
import { pageParams, rangeQuery } from "../usage/query-params.ts";
import { toIso } from "../time.ts";
import { queryText, strictQuery } from "../validation.ts";
import { apiRouter, errors, json, jsonBody, nextCursor } from "../api/openapi.ts";

/** GET /api/prices, POST /api/prices (admin price), POST /api/prices/reprice. */
export function pricesRoutes({ db, clock, config }: Pick<AppDeps, "db" | "clock" | "config">) {
  const book = new PriceBook(db);

  const list = createRoute({
    method: "get",
    path: "/",
    summary: "The price catalogue, newest rows first",
    request: { query: strictQuery({ model: queryText().optional().meta({ description: "Only rows of this model" }), ...pageParams(100, 1000) }) },
    responses: { 200: json(z.object({ data: z.array(priceJsonSchema), next_cursor: nextCursor }), "A page of prices"), ...errors() },
  });

  const body = jsonBody(newPriceBody(config.REPORT_TZ, () => clock.now()), { description: "An admin price; admin prices win over synced ones" });
  const add = createRoute({
    method: "post",
    path: "/",
    summary: "Add an admin price",
    middleware: body.middleware,
    request: body.request,
    responses: { 201: json(priceJsonSchema, "The stored price"), ...errors() },
  });

  const reprice = createRoute({
    method: "post",
    path: "/reprice",
    summary: "Re-price the calls of a range with the prices now in the table (idempotent)",
    request: { query: rangeQuery(config.REPORT_TZ, () => clock.now()) },
    responses: {
      200: json(z.object({ from: z.string(), to: z.string(), calls_scanned: z.number().int(), calls_repriced: z.number().int() }), "What was re-priced"),
      ...errors(),
    },
  });

  return apiRouter()
    .openapi(list, async (c) => {
      const { model, limit, cursor } = c.req.valid("query");
      await book.refresh();
      const rows = await listPrices(db, { limit, ...(cursor !== undefined ? { before: cursor } : {}), ...(model !== undefined ? { model } : {}) });
      const now = clock.now();
      return c.json(
        {
          data: rows.map((row) => priceJson(row, book.priceAt(row.model, now)?.id === row.id)),
          next_cursor: rows.length === limit ? String(rows[rows.length - 1]!.id) : null,
        },
        200,
      );
    })
    .openapi(add, async (c) => {
      const row = await insertPrice(db, c.var.body);
      await book.refresh();
      // New calls pick the row up at once (PriceBook notices the table changed); calls already
      // recorded keep their cost until POST /api/prices/reprice covers them.
      return c.json(priceJson(row, book.priceAt(row.model, clock.now())?.id === row.id), 201);
    })
    .openapi(reprice, async (c) => {
      const { from, to } = c.req.valid("query");
      const result = await repriceRange(db, from, to);
      return c.json({ from: toIso(from), to: toIso(to), calls_scanned: result.callsScanned, calls_repriced: result.callsRepriced }, 200);
    });
}
