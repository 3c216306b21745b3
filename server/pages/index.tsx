import { Hono, type Context } from "hono";
import { jsxRenderer } from "hono/jsx-renderer";
import type { AppDeps } from "../app.ts";
import { ApiError } from "../errors.ts";
import { TimeError } from "../time.ts";
import { loadSession, requireCsrf, requireSession } from "../sessions/guard.ts";
import { limitBody } from "../body-limit.ts";
import { renderLayout } from "../../views/layout.tsx";
import { ErrorPage } from "../../views/error.tsx";
import { modelPaletteReader } from "../usage/model-palette.ts";
import { listKeyNames } from "../keys/key-names-store.ts";
import { keysPages } from "../keys/keys-page.tsx";
import { renderFragment, wantsFragment, type PageEnv } from "./page-env.tsx";
import { secureHeaders } from "hono/secure-headers";
import { staticRoutes } from "./static.ts";
import { loginRoutes } from "../sessions/login-page.tsx";
import { requestsPages } from "../requests/requests-page.tsx";
import { failuresPages } from "../requests/failures-page.tsx";
import { overviewPages } from "../usage/overview-page.tsx";
import { usagePages } from "../usage/usage-page.tsx";
import { spendPages } from "../usage/spend-page.tsx";
import { pricesPages } from "../prices/prices-page.tsx";
import { repricePages } from "../prices/reprice-page.tsx";
import { issuedKeysPages } from "../keys/issued-keys-page.tsx";
import { budgetsPages } from "../budgets/budgets-page.tsx";
import { alertsPages } from "../alerts/alerts-page.tsx";
import { jobsPages } from "../job-runs/jobs-page.tsx";
import { reportsPages } from "../reports/reports-page.tsx";
import { reportEmailPages } from "../reports/report-email-page.tsx";

// The dashboard: server-rendered pages over the same query functions as /api (one query layer,
// two renderings). Mounted at "/" after /api, whose own catch-all answers every /api path, so
// nothing here ever sees an /api request (and /v1 and /healthz never reach Hono: http-server.ts).

/** Render a status page, as a bare fragment for htmx or inside the layout. */
function renderStatus(c: Context<PageEnv>, status: 400 | 403 | 404 | 413 | 500, message: string) {
  c.status(status);
  const page = <ErrorPage status={status} message={message} />;
  return wantsFragment(c) ? renderFragment(c, page) : c.render(page, { title: String(status) });
}

function pageError(err: Error, c: Context<PageEnv>) {
  if (err instanceof ApiError) return renderStatus(c, err.status === 404 ? 404 : err.status >= 500 ? 500 : 400, err.message);
  if (err instanceof TimeError) return renderStatus(c, 400, err.message);
  console.error("page error", err);
  return renderStatus(c, 500, "tollbooth failed to render this page; the server log has the details.");
}

// No inline script or style anywhere, so the policy needs no 'unsafe-inline': charts read their
// data from data- attributes and are drawn by /static/app-*.js; widths come from classes or
// <meter>. img-src allows data: for Pico's inline SVG icons (checkboxes, selects). Only these four
// headers: the others secureHeaders sends by default (HSTS above all) assume an HTTPS origin,
// which a self-hosted dashboard on a LAN port often is not.
const pageSecurityHeaders = secureHeaders({
  contentSecurityPolicy: {
    defaultSrc: ["'self'"],
    scriptSrc: ["'self'"],
    styleSrc: ["'self'"],
    imgSrc: ["'self'", "data:"],
    connectSrc: ["'self'"],
    objectSrc: ["'none'"],
    baseUri: ["'none'"],
    frameAncestors: ["'none'"],
    formAction: ["'self'"],
  },
  xContentTypeOptions: true,
  referrerPolicy: "same-origin",
  xFrameOptions: "DENY",
  crossOriginResourcePolicy: false,
  crossOriginOpenerPolicy: false,
  originAgentCluster: false,
  strictTransportSecurity: false,
  xDnsPrefetchControl: false,
  xDownloadOptions: false,
  xPermittedCrossDomainPolicies: false,
  xXssProtection: false,
  // A handler that sets its own policy keeps it: a report email shown in a sandboxed frame
  // (server/reports/report-email-page.tsx) needs its inline styles and a same-origin frame-ancestors.
  overwrite: false,
});

export function pagesRoutes(deps: AppDeps): Hono<PageEnv> {
  const pages = new Hono<PageEnv>();
  pages.onError(pageError);

  pages.use("*", pageSecurityHeaders);
  pages.use("*", jsxRenderer(renderLayout, { docType: true }));
  pages.use("*", loadSession(deps.db, deps.clock));
  pages.use("*", requireSession());
  // After the session check (only /login and /static are public) and before requireCsrf reads forms.
  pages.use("*", limitBody((c, message) => renderStatus(c, 413, message)));
  pages.use("*", requireCsrf((c, message) => renderStatus(c, 403, message)));
  const currentPalette = modelPaletteReader(deps.db);
  pages.use("*", async (c, next) => {
    c.set("palette", await currentPalette());
    c.set("tz", deps.config.REPORT_TZ);
    // Only for signed-in pages: the login page shows no keys.
    if (c.get("session")) c.set("keyNames", await listKeyNames(deps.db));
    await next();
  });

  pages.route("/", staticRoutes());
  pages.route("/", loginRoutes(deps));
  pages.route("/", overviewPages(deps));
  pages.route("/", usagePages(deps));
  pages.route("/", spendPages(deps));
  pages.route("/", pricesPages(deps));
  pages.route("/", repricePages(deps));
  pages.route("/", issuedKeysPages(deps));
  pages.route("/", budgetsPages(deps));
  pages.route("/", alertsPages(deps));
  pages.route("/", jobsPages(deps));
  pages.route("/", reportsPages(deps));
  pages.route("/", reportEmailPages(deps));
  pages.route("/", keysPages(deps));
  pages.route("/", failuresPages(deps));
  pages.route("/", requestsPages(deps));

  pages.all("*", (c) => renderStatus(c, 404, `Nothing lives at ${c.req.path}.`));
  return pages;
}
