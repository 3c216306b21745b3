import { Hono, type Context } from "hono";
import type { AppDeps } from "../app.ts";
import { ApiError } from "../errors.ts";
import { PriceBook } from "./price-book.ts";
import { parseNewPrice } from "./price-input.ts";
import { insertPrice, listPrices } from "./prices-store.ts";
import { queryUsage } from "../usage/usage-query.ts";
import { bucketEndAfter, startOf } from "../time.ts";
import { PricesPage, type PriceForm } from "../../views/prices/prices.tsx";
import type { PageEnv } from "../pages/page-env.tsx";

const SHOWN = 500;
const FORM_FIELDS = ["model", "input_usd_per_mtok", "output_usd_per_mtok", "effective_from"] as const;

/** GET /prices (catalog + add form) and POST /prices (same validation as POST /api/prices). */
export function pricesPages({ db, clock, config }: Pick<AppDeps, "db" | "clock" | "config">): Hono<PageEnv> {
  const app = new Hono<PageEnv>();
  const book = new PriceBook(db);
  const tz = config.REPORT_TZ;

  const render = async (c: Context<PageEnv>, form: PriceForm, error: string | null, addedId: number | null) => {
    const now = clock.now();
    const rows = await listPrices(db, { limit: SHOWN });
    await book.refresh();
    const inEffect = new Map([...new Set(rows.map((r) => r.model))].map((model) => [model, book.priceAt(model, now)?.id]));
    const entries = rows
      .map((price) => ({ price, inEffect: inEffect.get(price.model) === price.id }))
      .sort((a, b) => a.price.model.localeCompare(b.price.model) || b.price.effectiveFrom - a.price.effectiveFrom);
    const month = await queryUsage(db, { from: startOf("month", now, tz), to: bucketEndAfter(now), tz, groupBy: ["model"] });
    const unpriced = month.rows
      .filter((r) => r.unpricedRequests > 0n && !r.other && r.group.model)
      .map((r) => ({ model: r.group.model!, requests: Number(r.unpricedRequests) }));
    const added = addedId === null ? null : (rows.find((r) => r.id === addedId) ?? null);
    return c.render(
      <PricesPage rows={entries} unpriced={unpriced} form={form} error={error} added={added} csrfToken={c.get("session")?.csrfToken ?? ""} tz={tz} limited={rows.length === SHOWN} />,
      { title: "Prices", nav: "prices" },
    );
  };

  app.get("/prices", (c) => {
    const added = Number(c.req.query("added"));
    const form = { model: c.req.query("model") ?? "", input_usd_per_mtok: "", output_usd_per_mtok: "", effective_from: "" };
    return render(c, form, null, Number.isSafeInteger(added) && added > 0 ? added : null);
  });

  app.post("/prices", async (c) => {
    const body = await c.req.parseBody();
    const form = Object.fromEntries(FORM_FIELDS.map((f) => [f, typeof body[f] === "string" ? (body[f] as string).trim() : ""])) as unknown as PriceForm;
    // The API's validator, fed the fields a JSON client would send (an empty optional field is absent).
    const input = Object.fromEntries(Object.entries(form).filter(([, v]) => v !== ""));
    try {
      const row = await insertPrice(db, parseNewPrice(input, tz, clock.now()));
      // Post/redirect/get: a reload shows the page instead of adding the price twice.
      return c.redirect(`/prices?added=${row.id}`, 303);
    } catch (err) {
      if (!(err instanceof ApiError)) throw err;
      c.status(400);
      return render(c, form, err.message, null);
    }
  });

  return app;
}
