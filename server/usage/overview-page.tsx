import { Hono } from "hono";
import type { AppDeps } from "../app.ts";
import { dailySpendChart, overviewFigures } from "./overview.ts";
import { hasAnyCall } from "../requests/recent.ts";
import { OverviewFigures, OverviewPage } from "../../views/usage/overview.tsx";
import { publicOrigin, type PageEnv, renderFragment } from "../pages/page-env.tsx";

/** GET / (overview) and GET /overview/figures (the fragment its htmx poll swaps in). */
export function overviewPages({ db, clock, config }: Pick<AppDeps, "db" | "clock" | "config">): Hono<PageEnv> {
  const app = new Hono<PageEnv>();
  const tz = config.REPORT_TZ;

  app.get("/", (c) => {
    const now = clock.now();
    const page = (
      <OverviewPage
        figures={overviewFigures(db, tz, now)}
        chart={dailySpendChart(c.get("palette"), db, tz, now)}
        origin={publicOrigin(c, config.PUBLIC_URL)}
        hasCalls={hasAnyCall(db)}
      />
    );
    return c.render(page, { title: "Overview", nav: "overview" });
  });

  app.get("/overview/figures", (c) => renderFragment(c, <OverviewFigures figures={overviewFigures(db, tz, clock.now())} />));

  return app;
}
