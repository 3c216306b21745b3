import { Hono } from "hono";
import { staticAssets } from "../static-assets.ts";
import type { PageEnv } from "./page-env.tsx";

/** GET /static/…: the versioned files of static-assets.ts, cached for a year (the URL changes with the content). */
export function staticRoutes(): Hono<PageEnv> {
  const app = new Hono<PageEnv>();
  const byUrl = new Map(Object.values(staticAssets()).map((a) => [a.url, a]));
  app.get("/static/*", (c) => {
    const asset = byUrl.get(c.req.path);
    if (!asset) return c.notFound();
    return c.body(new Uint8Array(asset.body), 200, {
      "content-type": asset.contentType,
      "cache-control": "public, max-age=31536000, immutable",
    });
  });
  return app;
}
