import { Hono } from "hono";
import type { AppDeps } from "../app.ts";
import { dailySpendChart, overviewFigures } from "./overview.ts";
import { hasAnyCall } from "../requests/recent.ts";
import { closestBudgets } from "../budgets/closest-budgets.ts";
import { OverviewFigures, OverviewPage } from "../../views/usage/overview.tsx";
import { publicOrigin, type PageEnv, renderFragment } from "../pages/page-env.tsx";

/** GET / (overview) and GET /overview/figures (the fragment its htmx poll swaps in). */
export function overviewPages({ db, clock, config }: Pick<AppDeps, "db" | "clock" | "config">): Hono<PageEnv> {
  const app = new Hono<PageEnv>();
  const tz = config.REPORT_TZ;

  app.get("/", async (c) => {
    const now = clock.now();
    const page = (
      <OverviewPage
        figures={await overviewFigures(db, tz, now)}
        chart={await dailySpendChart(c.get("palette"), db, tz, now)}
        origin={publicOrigin(c, config.PUBLIC_URL)}
        hasCalls={await hasAnyCall(db)}
        budgets={await closestBudgets(db, now)}
      />
    );
    return c.render(page, { title: "Overview", nav: "overview" });
  });

  app.get("/overview/figures", async (c) => renderFragment(c, <OverviewFigures figures={await overviewFigures(db, tz, clock.now())} />));

  return app;
}
