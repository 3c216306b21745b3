import type { IncomingMessage, ServerResponse } from "node:http";
import { tokenMatches } from "../auth.ts";
import { errorBody } from "../errors.ts";
import { sendBytes, sendJson } from "../proxy/inbound.ts";
import type { WriterThread } from "../workers/writer.ts";
import type { CallMetrics } from "./call-metrics.ts";

/** How long a scrape waits for the writer thread's figures before using its last ones. */
const WRITER_WAIT_MS = 1_000;

const UNAUTHORIZED = errorBody("missing or invalid token (Authorization: Bearer $METRICS_TOKEN or $ADMIN_TOKEN)", "authentication_error", "invalid_metrics_token");

/**
 * GET /metrics on the serving thread, like /healthz: the per-call figures live here, the writer
 * thread adds its own text on request. It never reads the database itself (the writer does),
 * so a scrape cannot delay /v1 by more than the formatting.
 */
export function createMetricsRoute(deps: { metrics: CallMetrics; writer: Pick<WriterThread, "metrics">; tokens: readonly string[] }) {
  let lastWriterText = "";
  return (req: IncomingMessage, res: ServerResponse): void => {
    const auth = req.headers.authorization ?? "";
    const token = /^Bearer +(\S+)$/i.exec(auth)?.[1];
    if (token === undefined || !deps.tokens.some((t) => tokenMatches(token, t))) {
      sendJson(res, 401, UNAUTHORIZED, { "www-authenticate": 'Bearer realm="tollbooth metrics"', "cache-control": "no-store" });
      return;
    }
    if (req.method !== "GET" && req.method !== "HEAD") {
      sendJson(res, 405, errorBody("use GET /metrics", "invalid_request_error", "method_not_allowed"), { allow: "GET, HEAD" });
      return;
    }
    void (async () => {
      // A writer busy in a long transaction answers late: its previous figures stand in.
      lastWriterText = (await deps.writer.metrics(WRITER_WAIT_MS)) ?? lastWriterText;
      const own = await deps.metrics.text();
      const body = Buffer.from(`${own}\n${lastWriterText}`);
      // For HEAD, node:http sends the headers (Content-Length included) and drops the body.
      sendBytes(res, 200, body, { "content-type": deps.metrics.contentType, "cache-control": "no-store" });
    })();
  };
}
