import { Hono } from "hono";
import { NO_ERROR_TYPE } from "./filters.ts";
import type { AppDeps } from "../app.ts";
import { failureGroups } from "./failures.ts";
import { FailuresPage } from "../../views/requests/failures.tsx";
import { RANGE_MS } from "./explorer-query.ts";
import type { PageEnv } from "../pages/page-env.tsx";

/** Top 50 groups and 24 sparkline slots: one screen, and a bounded query however bad the day was. */
const GROUPS = 50;
const SLOTS = 24;

/** GET /requests/failed: failures grouped by status + error type + model. */
export function failuresPages({ db, clock }: Pick<AppDeps, "db" | "clock">): Hono<PageEnv> {
  const app = new Hono<PageEnv>();
  app.get("/requests/failed", async (c) => {
    const asked = c.req.query("range") ?? "24h";
    const range = RANGE_MS[asked] !== undefined ? asked : "24h";
    const to = clock.now() + 1; // inclusive of a call recorded this very millisecond
    const from = to - RANGE_MS[range]!;
    const report = await failureGroups(db, { from, to, limit: GROUPS, slots: SLOTS });
    // Exactly the group's calls: its status and error type together (none = a failed status
    // without one), its model, and the window.
    const examplesQuery = (g: (typeof report.groups)[number]) => {
      const p = new URLSearchParams({ status: String(g.status), error_type: g.errorType ?? NO_ERROR_TYPE, range });
      if (g.model) p.set("model", g.model);
      return p.toString();
    };
    return c.render(<FailuresPage report={report} range={range} examplesQuery={examplesQuery} />, { title: "Failures", nav: "failures" });
  });
  return app;
}
