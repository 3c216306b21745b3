import { Hono } from "hono";
import type { Config } from "./config.ts";
import type { Db } from "./db/open.ts";
import type { Clock } from "./clock.ts";
import type { Logger } from "./log.ts";
import { handleError, jsonError } from "./errors.ts";
import { apiRoutes } from "./api/index.ts";
import { pagesRoutes } from "./pages/index.tsx";

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

  app.route("/api", apiRoutes(deps)); // JSON API behind the admin token (api/index.ts)
  app.route("/", pagesRoutes(deps)); // dashboard pages (last: its middleware skips /api)

  return app;
}
