import { Hono } from "hono";
import type { AppDeps } from "../app.ts";
import { errorBody } from "../errors.ts";

/** GET /healthz: 200 only when the database accepts a write (a read-only or full disk fails it). */
export function healthRoutes({ db }: Pick<AppDeps, "db">): Hono {
  const app = new Hono();
  app.get("/healthz", (c) => {
    try {
      db.$client.prepare("INSERT INTO job_state(name, value) VALUES ('healthz', 0) ON CONFLICT(name) DO UPDATE SET value = value + 1").run();
      return c.json({ status: "ok" });
    } catch (err) {
      return c.json(errorBody(`database not writable: ${(err as Error).message}`, "server_error", "db_unwritable"), 503);
    }
  });
  return app;
}
