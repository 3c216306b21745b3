import { createServer, type RequestListener, type Server } from "node:http";
import type { Draining } from "./draining.ts";
import { isProxyTarget } from "./proxy/proxy-handler.ts";

export interface Routes {
  /** /v1/*: the proxy's own node:http handler. */
  proxy: RequestListener;
  /** GET /healthz, answered on this thread from the writer's last report. */
  health: RequestListener;
  /** GET /metrics (Prometheus), on this thread too; null when METRICS_ENABLED=false. */
  metrics: RequestListener | null;
  /** Everything else (dashboard, /api): handed to a reader thread. */
  bridge: RequestListener;
}

/**
 * One node:http server for everything. Only the proxy and the health check run on this thread;
 * the dashboard and /api run in reader threads, so no database work ever delays /v1.
 */
export function createHttpServer(routes: Routes, draining: Draining): Server {
  return createServer(
    draining.guard((req, res) => {
      if (isProxyTarget(req.url)) routes.proxy(req, res);
      else if (req.url === "/healthz" || req.url?.startsWith("/healthz?")) routes.health(req, res);
      else if (routes.metrics && (req.url === "/metrics" || req.url?.startsWith("/metrics?"))) routes.metrics(req, res);
      else routes.bridge(req, res);
    }),
  );
}
