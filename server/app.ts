import { Hono } from "hono";
import type { Config } from "./config.ts";
import type { Db } from "./db/open.ts";
import type { Clock } from "./clock.ts";
import type { Logger } from "./log.ts";
import { requestId } from "hono/request-id";
import { handleError, jsonError } from "./errors.ts";
import { requireAdminToken } from "./auth.ts";
import { limitBody, tooLargeJson } from "./body-limit.ts";
import { requestsRoutes } from "./routes/api/requests.ts";
import { pricesRoutes } from "./routes/api/prices.ts";
import { usageRoutes } from "./routes/api/usage.ts";
import { jobsRoutes } from "./routes/api/jobs.ts";
import { reportsRoutes } from "./routes/api/reports.ts";
import { pagesRoutes } from "./routes/pages/index.tsx";

/** Everything a dashboard or /api handler may touch, built once per reader thread (workers/reader-main.ts). */
export interface AppDeps {
  config: Config;
  db: Db;
  clock: Clock;
  log: Logger;
  adminToken: string;
}

export function createApp(deps: AppDeps): Hono {
  const app = new Hono();
  app.onError(handleError);
  app.notFound((c) => jsonError(c, 404, `no route for ${c.req.method} ${c.req.path}`, "invalid_request_error", "not_found"));

  const api = new Hono();
  api.use("*", requestId()); // first: even a refused token's answer carries the id
  api.use("*", requireAdminToken(deps.adminToken));
  api.use("*", limitBody(tooLargeJson)); // after the token: an unauthorised body is never read
  // API routes are mounted here, one sub-app per resource.
  api.route("/requests", requestsRoutes(deps));
  api.route("/prices", pricesRoutes(deps));
  api.route("/", usageRoutes(deps)); // /usage, /usage.csv, /usage/summary
  api.route("/jobs", jobsRoutes(deps));
  api.route("/reports", reportsRoutes(deps));
  app.route("/api", api);
  app.route("/", pagesRoutes(deps)); // dashboard pages (last: its middleware skips /api)

  return app;
}
