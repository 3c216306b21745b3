import { Hono } from "hono";
import type { HttpBindings } from "@hono/node-server";
import type { AppDeps } from "../app.ts";
import { ApiError, errorBody } from "../errors.ts";
import { readAttribution } from "../proxy/attribution.ts";
import { CallTracker } from "../proxy/call-tracker.ts";
import { fingerprintKey } from "../proxy/fingerprint.ts";
import { inboundFromNode, inboundFromRequest } from "../proxy/inbound.ts";
import { parseJsonObject } from "../proxy/parse-json-body.ts";
import { forwardCall, type RecordingClientDeps } from "../proxy/recording-client.ts";

// Endpoints whose body must be a JSON object (the rest of /v1/* passes through as bytes).
const JSON_ENDPOINTS = /^\/(chat\/completions|completions|embeddings)$/;

/**
 * /v1/*: the OpenAI-compatible surface. Checks only what it must (attribution headers, size,
 * JSON), records every call that reaches it, and forwards the rest unchanged. The upstream is
 * configuration only: nothing in a request can change where the caller's key is sent.
 */
export function proxyRoutes(deps: Pick<AppDeps, "config" | "recorder" | "clock" | "log"> & { agent: RecordingClientDeps["agent"] }): Hono<{ Bindings: HttpBindings }> {
  const app = new Hono<{ Bindings: HttpBindings }>();
  const client = { config: deps.config, agent: deps.agent, log: deps.log };
  app.all("/v1/*", async (c) => {
    const inbound = c.env?.incoming ? inboundFromNode(c.env.incoming, c.env.outgoing) : inboundFromRequest(c.req.raw);
    const queryAt = inbound.target.indexOf("?");
    const pathname = queryAt === -1 ? inbound.target : inbound.target.slice(0, queryAt);
    const subPath = pathname.slice("/v1".length);
    const tracker = new CallTracker(deps.recorder, deps.config, {
      endpoint: pathname,
      createdAt: deps.clock.now(),
      keyId: fingerprintKey(inbound.header("authorization")),
      attribution: { team: null, project: null, user: null },
    });
    try {
      tracker.start.attribution = readAttribution(inbound.header);
      const hasBody = inbound.method !== "GET" && inbound.method !== "HEAD";
      const body = hasBody ? await inbound.readBody(deps.config.MAX_BODY_BYTES) : null;
      tracker.requestBody = body;
      const json = JSON_ENDPOINTS.test(subPath) && inbound.method === "POST" ? parseJsonObject(body) : null;
      if (json && typeof json.model === "string") tracker.model = json.model;
      return await forwardCall(client, {
        tracker,
        method: inbound.method,
        path: inbound.target.slice("/v1".length),
        headers: inbound.headers,
        body,
        json,
        onClientGone: inbound.onClientGone,
        nodeResponse: c.env?.outgoing,
      });
    } catch (err) {
      const apiErr =
        err instanceof ApiError ? err : new ApiError(500, "server_error", "internal_error", `tollbooth failed to proxy the call: ${(err as Error).message}`);
      if (!(err instanceof ApiError)) deps.log.error(`proxy: ${(err as Error).stack ?? String(err)}`);
      tracker.finish({ status: apiErr.status, errorType: apiErr.type, errorMessage: apiErr.message });
      return c.json(errorBody(apiErr.message, apiErr.type, apiErr.code), apiErr.status, { "x-tollbooth-request-id": tracker.requestId });
    }
  });
  return app;
}
