import { Hono } from "hono";
import type { AppDeps } from "../../app.ts";
import { ApiError } from "../../errors.ts";
import { parseRequestFilters, parseRequestRef } from "../../requests/filters.ts";
import { getRequest, listRequests } from "../../requests/query.ts";

/** GET /api/requests (filtered keyset pages) and GET /api/requests/:id (one call with bodies). */
export function requestsRoutes({ db }: Pick<AppDeps, "db">): Hono {
  const app = new Hono();

  app.get("/", (c) => {
    const filters = parseRequestFilters(new URL(c.req.url).searchParams);
    return c.json(listRequests(db, filters));
  });

  app.get("/:id", (c) => {
    const ref = parseRequestRef(c.req.param("id"));
    const found = getRequest(db, ref);
    if (!found) throw new ApiError(404, "invalid_request_error", "not_found", `no request with id ${JSON.stringify(String(ref))}`);
    return c.json(found);
  });

  return app;
}
