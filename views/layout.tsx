import type { Context } from "hono";
import type { Child } from "hono/jsx";
import type { Session } from "../server/db/schema.ts";
import { assetUrl } from "../server/static-assets.ts";
import { CSRF_HEADER } from "../server/sessions/csrf.ts";
import { Nav, type NavKey } from "./components/nav.tsx";
import { RenderContext } from "./components/render-context.tsx";

/** What every page handler passes to c.render next to its content. */
export interface PageProps {
  title: string;
  nav?: NavKey;
}

declare module "hono" {
  interface ContextRenderer {
    // biome-ignore lint/style/useShorthandFunctionType: augmenting Hono's interface needs the interface form.
    (content: string | Promise<string>, props: PageProps): Response | Promise<Response>;
  }
}

// htmx defaults tuned for a strict CSP and for privacy: no injected <style> (style-src 'self'),
// no eval or inline scripts in swapped HTML, and no page snapshots in localStorage (they would
// keep logged prompts around after logout); history navigation reloads from the server instead.
const HTMX_CONFIG = JSON.stringify({
  includeIndicatorStyles: false,
  allowEval: false,
  allowScriptTags: false,
  selfRequestsOnly: true,
  historyCacheSize: 0,
  refreshOnHistoryMiss: true,
});

function Layout({ title, nav, children, session }: PageProps & { children?: Child; session: Session | null }) {
  return (
    <html lang="en">
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <meta name="color-scheme" content="light dark" />
        <meta name="htmx-config" content={HTMX_CONFIG} />
        <title>{`${title} · tollbooth`}</title>
        <link rel="icon" href={assetUrl("favicon")} type="image/svg+xml" />
        <link rel="stylesheet" href={assetUrl("pico")} />
        <link rel="stylesheet" href={assetUrl("appCss")} />
        <script src={assetUrl("htmx")} defer />
        <script src={assetUrl("chart")} defer />
        <script type="module" src={assetUrl("appJs")} />
      </head>
      <body hx-headers={session ? JSON.stringify({ [CSRF_HEADER]: session.csrfToken }) : undefined}>
        {session ? <Nav active={nav} csrfToken={session.csrfToken} /> : null}
        <main class="container">{children}</main>
      </body>
    </html>
  );
}

/** jsxRenderer component: the session and palette come from the context (set by the pages' middleware). */
export function renderLayout({ children, ...props }: PageProps & { children?: Child }, c: Context) {
  return (
    <RenderContext c={c}>
      <Layout {...props} session={(c.get("session") as Session | null | undefined) ?? null}>
        {children}
      </Layout>
    </RenderContext>
  );
}
