import type { Context } from "hono";
import type { Child } from "hono/jsx";
import type { Session } from "../db/schema.ts";
import type { ModelPalette } from "../usage/palette.ts";
import { RenderContext } from "../../views/components/render-context.tsx";
import type { KeyNames } from "../keys/key-names-store.ts";

/** Context variables of every page route (set by pages/index.tsx's middleware). */
export type PageEnv = {
  /** tz: the zone every timestamp of the page is shown in (REPORT_TZ unless the page picks one). */
  Variables: { session: Session | null; palette: ModelPalette; keyNames: KeyNames; tz: string };
};

/**
 * Answer an htmx request with a bare fragment. It goes through here rather than c.html so that
 * its swatches and key cells get the same context as a whole page (RenderContext, as the layout).
 */
export function renderFragment(c: Context<PageEnv>, fragment: Child): Response | Promise<Response> {
  return c.html(<RenderContext c={c}>{fragment}</RenderContext>);
}

/**
 * An htmx request wants a fragment; a history restore (back button after a cache miss) and a
 * plain navigation want the whole page.
 */
export function wantsFragment(c: Context): boolean {
  return c.req.header("hx-request") === "true" && c.req.header("hx-history-restore-request") !== "true";
}

/** Where a newcomer should point their client: PUBLIC_URL when set, else this request's origin. */
export function publicOrigin(c: Context, publicUrl: string | undefined): string {
  return (publicUrl ?? new URL(c.req.url).origin).replace(/\/+$/, "");
}
