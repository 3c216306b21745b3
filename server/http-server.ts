import { getRequestListener } from "@hono/node-server";
import { createServer, type RequestListener, type Server } from "node:http";
import type { Hono } from "hono";
import type { Draining } from "./draining.ts";
import { isProxyTarget } from "./proxy/proxy-handler.ts";

/**
 * One node:http server for everything: /v1/* goes to the proxy's own handler, the rest (health,
 * /api, dashboard) to the Hono app through @hono/node-server's adaptor.
 */
export function createHttpServer(app: Hono, proxy: RequestListener, draining: Draining): Server {
  const honoListener = getRequestListener(app.fetch);
  return createServer(
    draining.guard((req, res) => {
      if (isProxyTarget(req.url)) proxy(req, res);
      else void honoListener(req, res);
    }),
  );
}
