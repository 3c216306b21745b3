import { Hono } from "hono";
import type { AppDeps } from "../app.ts";
import { ApiError } from "../errors.ts";
import { curlForCall } from "./curl.ts";
import { parseRequestRef } from "./filters.ts";
import { SEARCH_BUDGET, getRequest, listRequestsBounded } from "./query.ts";
import { ExplorerPage, ExplorerResults, LoadMore, RequestRows } from "../../views/requests/requests.tsx";
import { RequestDetailPage } from "../../views/requests/request-detail.tsx";
import { parseExplorerQuery, withResolvedKey } from "./explorer-query.ts";
import { knownModels } from "./model-match.ts";
import { publicOrigin, wantsFragment, type PageEnv, renderFragment } from "../pages/page-env.tsx";

/** GET /requests (the explorer, same query as GET /api/requests) and GET /requests/:id. */
export function requestsPages({ db, clock, config }: Pick<AppDeps, "db" | "clock" | "config">): Hono<PageEnv> {
  const app = new Hono<PageEnv>();

  app.get("/requests", async (c) => {
    const input = await withResolvedKey(db, parseExplorerQuery(new URL(c.req.url).searchParams, clock.now(), config.REPORT_TZ));
    const page = input.error ? { data: [], next_cursor: null, searched_back_to: null } : await listRequestsBounded(db, input.filters, SEARCH_BUDGET);
    // htmx swaps only 2xx answers: a fragment carries its error as content instead.
    if (input.error && !wantsFragment(c)) c.status(400);
    const origin = publicOrigin(c, config.PUBLIC_URL);
    const props = { ...input, page, origin, models: await knownModels(db) };
    if (wantsFragment(c)) {
      // "Load more" replaces its own row with the next rows and a new button.
      if (input.filters.cursor) {
        return renderFragment(
          c,
          <>
            <RequestRows rows={page.data} />
            <LoadMore queryString={input.queryString} cursor={page.next_cursor} searchedBackTo={page.searched_back_to} />
          </>,
        );
      }
      return renderFragment(c, <ExplorerResults {...props} />);
    }
    return c.render(<ExplorerPage {...props} />, { title: "Requests", nav: "requests" });
  });

  app.get("/requests/:id", async (c) => {
    const call = await getRequest(db, parseRequestRef(c.req.param("id")));
    if (!call) throw new ApiError({ status: 404, type: "invalid_request_error", code: "not_found", message: `No call with id ${c.req.param("id")} (it may have been removed by retention).` });
    const curl = curlForCall(call, publicOrigin(c, config.PUBLIC_URL));
    return c.render(<RequestDetailPage call={call} curl={curl} />, { title: `Call ${call.id}`, nav: call.status >= 400 ? "failures" : "requests" });
  });

  return app;
}
