import { Hono } from "hono";
import type { AppDeps } from "../../app.ts";
import { ApiError } from "../../errors.ts";
import { parseRequestFilters, parseRequestRef } from "../../requests/filters.ts";
import { indexable } from "../../requests/message-index.ts";
import { SEARCH_BUDGET, getRequest, listRequests, listRequestsBounded, type BoundedRequestPage } from "../../requests/query.ts";

/** GET /api/requests (filtered keyset pages) and GET /api/requests/:id (one call with bodies). */
export function requestsRoutes({ db }: Pick<AppDeps, "db">): Hono {
  const app = new Hono();

  app.get("/", (c) => {
    const filters = parseRequestFilters(new URL(c.req.url).searchParams);
    // Pages are full and exact, but for a text of 1–2 characters: the message index cannot look
    // that up, so it is checked on the newest SEARCH_BUDGET failed calls per page, as on the
    // explorer page, and searched_back_to says how far back (next_cursor carries on from there).
    const page: BoundedRequestPage =
      filters.q !== undefined && !indexable(filters.q) ? listRequestsBounded(db, filters, SEARCH_BUDGET) : { ...listRequests(db, filters), searched_back_to: null };
    return c.json(page);
  });

  app.get("/:id", (c) => {
    const ref = parseRequestRef(c.req.param("id"));
    const found = getRequest(db, ref);
    if (!found) throw new ApiError({ status: 404, type: "invalid_request_error", code: "not_found", message: `no request with id ${JSON.stringify(String(ref))}` });
    return c.json(found);
  });

  return app;
}
