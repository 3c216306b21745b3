import type { OpenAPIHono } from "@hono/zod-openapi";
import { requestId } from "hono/request-id";
import type { AppDeps } from "../app.ts";
import { requireAdminToken } from "../auth.ts";
import { limitBody, tooLargeJson } from "../body-limit.ts";
import { jsonError } from "../errors.ts";
import { jobsRoutes } from "../job-runs/api.ts";
import { issuedKeysRoutes } from "../keys/issued-api.ts";
import { budgetsRoutes } from "../budgets/api.ts";
import { alertsRoutes } from "../alerts/api.ts";
import { apiRouter } from "./openapi.ts";
import { serveOpenApiDocument } from "./openapi-document.ts";
import { pricesRoutes } from "../prices/api.ts";
import { reportsRoutes } from "../reports/api.ts";
import { requestsRoutes } from "../requests/api.ts";
import { usageRoutes } from "../usage/api.ts";
import { keysRoutes } from "../keys/api.ts";

/** The /api sub-app: request id, admin token, body limit, one router per resource, and the OpenAPI document of them all. */
export function apiRoutes(deps: AppDeps): OpenAPIHono {
  const api = apiRouter();
  api.use("*", requestId()); // first: even a refused token's answer carries the id
  api.use("*", requireAdminToken(deps.adminToken));
  api.use("*", limitBody(tooLargeJson)); // after the token: an unauthorised body is never read
  api.route("/requests", requestsRoutes(deps));
  api.route("/prices", pricesRoutes(deps));
  api.route("/", usageRoutes(deps)); // /usage, /usage.csv, /usage/summary
  api.route("/jobs", jobsRoutes(deps));
  api.route("/reports", reportsRoutes(deps));
  api.route("/keys", keysRoutes(deps)); // /keys/names, /keys/:key_id/name: names for fingerprints
  api.route("/keys", issuedKeysRoutes(deps)); // /keys, /keys/:id/revoke|rotate: tollbooth-issued keys
  api.route("/budgets", budgetsRoutes(deps));
  api.route("/alerts", alertsRoutes(deps));
  serveOpenApiDocument(api); // GET /api/openapi.json, generated from the routes above
  // Every other /api path ends here with JSON, so no /api request ever falls through to the
  // dashboard's middleware (sessions, CSRF, HTML error pages) mounted after this sub-app.
  api.all("*", (c) => jsonError(c, 404, `no route for ${c.req.method} ${c.req.path}`, "invalid_request_error", "not_found"));
  return api;
}
