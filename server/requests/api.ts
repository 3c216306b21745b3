import { createRoute, z } from "@hono/zod-openapi";
import type { AppDeps } from "../app.ts";
import { ApiError } from "../errors.ts";
import { requestFiltersQuery, requestRef } from "./filters.ts";
import { indexable } from "./message-index.ts";
import { resolveKey } from "./key-match.ts";
import { resolveModels } from "./model-match.ts";
import {
  SEARCH_BUDGET,
  boundedRequestPageSchema,
  getRequest,
  listRequests,
  listRequestsBounded,
  requestDetailSchema,
  type BoundedRequestPage,
} from "./query.ts";
import { apiRouter, errors, json } from "../api/openapi.ts";

const list = createRoute({
  method: "get",
  path: "/",
  summary: "Recorded calls, newest first, filtered and keyset-paged",
  request: { query: requestFiltersQuery },
  responses: { 200: json(boundedRequestPageSchema, "A page of calls"), ...errors() },
});

const detail = createRoute({
  method: "get",
  path: "/{id}",
  summary: "One call with its stored request and response bodies",
  request: { params: z.object({ id: requestRef }) },
  responses: { 200: json(requestDetailSchema, "The call"), ...errors(404) },
});

/** GET /api/requests (filtered keyset pages) and GET /api/requests/:id (one call with bodies). */
export function requestsRoutes({ db }: Pick<AppDeps, "db">) {
  return apiRouter()
    .openapi(list, async (c) => {
      const given = c.req.valid("query");
      const filters = {
        ...given,
        ...(given.key === undefined ? {} : { key: await resolveKey(db, given.key) }),
        ...(given.model === undefined ? {} : { models: await resolveModels(db, given.model) }),
      };
      // Pages are full and exact, but for a text of 1–2 characters: the message index cannot look
      // that up, so it is checked on the newest SEARCH_BUDGET failed calls per page, as on the
      // explorer page, and searched_back_to says how far back (next_cursor carries on from there).
      const page: BoundedRequestPage =
        filters.q !== undefined && !indexable(filters.q) ? await listRequestsBounded(db, filters, SEARCH_BUDGET) : { ...(await listRequests(db, filters)), searched_back_to: null };
      return c.json(page, 200);
    })
    .openapi(detail, async (c) => {
      const ref = c.req.valid("param").id;
      const found = await getRequest(db, ref);
      if (!found) throw new ApiError({ status: 404, type: "invalid_request_error", code: "not_found", message: `no request with id ${JSON.stringify(String(ref))}` });
      return c.json(found, 200);
    });
}
