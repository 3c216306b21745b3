import { Hono } from "hono";
import type { AppDeps } from "../app.ts";
import { ApiError } from "../errors.ts";
import { TimeError, parseInstant, startOf, toIso } from "../time.ts";
import { badInput } from "../validation.ts";
import { RepricePage } from "../../views/prices/reprice.tsx";
import type { PageEnv } from "../pages/page-env.tsx";
import { previewReprice } from "./reprice-preview.ts";
import { repriceRange } from "./reprice.ts";

// GET /prices/reprice: pick a range (a date is midnight in REPORT_TZ; an empty "to" is now), see
// how many calls and how much money a re-price changes, then confirm: POST /prices/reprice runs
// the same re-price as POST /api/prices/reprice. The unpriced-calls warnings link here.

function bound(name: "from" | "to", text: string, tz: string, fallback: number): number {
  if (text === "") return fallback;
  try {
    return parseInstant(text, tz);
  } catch (err) {
    if (err instanceof TimeError) throw badInput(name, err.message);
    throw err;
  }
}

export function repricePages({ db, clock, config }: Pick<AppDeps, "db" | "clock" | "config">): Hono<PageEnv> {
  const app = new Hono<PageEnv>();
  const tz = config.REPORT_TZ;

  app.get("/prices/reprice", async (c) => {
    const now = clock.now();
    const form = { from: c.req.query("from")?.trim() ?? "", to: c.req.query("to")?.trim() ?? "" };
    const done = c.req.query("done");
    const csrfToken = c.get("session")?.csrfToken ?? "";
    const base = { form, tz, csrfToken, done: done !== undefined && /^\d{1,12}$/.test(done) ? Number(done) : null };
    let range: { from: number; to: number };
    try {
      range = { from: bound("from", form.from, tz, startOf("month", now, tz)), to: bound("to", form.to, tz, now) };
      if (range.from >= range.to) throw badInput("from", "must be before to");
    } catch (err) {
      if (!(err instanceof ApiError)) throw err;
      c.status(400);
      return c.render(<RepricePage {...base} preview={null} error={err.message} />, { title: "Re-price", nav: "prices" });
    }
    const preview = await previewReprice(db, range.from, range.to);
    const error = range.from < preview.retentionHorizon ? `Calls before ${toIso(preview.retentionHorizon)} were deleted by retention and cannot be re-priced; start the range later.` : null;
    return c.render(<RepricePage {...base} preview={preview} error={error} />, { title: "Re-price", nav: "prices" });
  });

  app.post("/prices/reprice", async (c) => {
    const body = await c.req.parseBody();
    const from = Number(body.from);
    const to = Number(body.to);
    if (!Number.isSafeInteger(from) || !Number.isSafeInteger(to)) throw badInput("from", "expected the range the preview showed");
    const result = await repriceRange(db, from, to);
    const back = new URLSearchParams({ from: toIso(from), to: toIso(to), done: String(result.callsRepriced) });
    return c.redirect(`/prices/reprice?${back}`, 303);
  });

  return app;
}
