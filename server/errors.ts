import type { Context } from "hono";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import { HTTPException } from "hono/http-exception";
import { ZodError } from "zod";

/**
 * The one error type routes throw. app.onError turns it into OpenAI's error shape
 * `{"error":{"message","type","code"}}`, so proxy and /api fail the same way.
 */
export class ApiError extends Error {
  constructor(
    readonly status: ContentfulStatusCode,
    readonly type: string,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

/**
 * OpenAI's error shape. `request_id` is an extra field inside `error` (clients that only know
 * message/type/code ignore it): the id hono/request-id gave this /api request, also sent as
 * `x-request-id`, so a user can quote it and an operator can find the log line.
 */
export function errorBody(message: string, type: string, code: string | number | null, requestId?: string) {
  return { error: { message, type, code, ...(requestId === undefined ? {} : { request_id: requestId }) } };
}

/** An error answered from a Hono handler: the OpenAI shape plus this request's id, when it has one. */
export function jsonError(c: Context, status: ContentfulStatusCode, message: string, type: string, code: string | number | null): Response {
  // Set by hono/request-id on /api only (app.ts); pages and unknown paths have none.
  const requestId: string | undefined = c.get("requestId");
  return c.json(errorBody(message, type, code, requestId), status);
}

export function handleError(err: Error, c: Context): Response {
  if (err instanceof ApiError) return jsonError(c, err.status, err.message, err.type, err.code);
  if (err instanceof ZodError) {
    const issue = err.issues[0];
    const where = issue?.path.length ? `${issue.path.join(".")}: ` : "";
    return jsonError(c, 400, `${where}${issue?.message ?? "invalid request"}`, "invalid_request_error", "invalid_parameter");
  }
  if (err instanceof HTTPException) {
    // A middleware that built its own answer (hono/bearer-auth: our 401 plus WWW-Authenticate).
    if (err.res) return err.getResponse();
    return jsonError(c, err.status as ContentfulStatusCode, err.message || "request failed", "invalid_request_error", String(err.status));
  }
  console.error("unhandled error", err);
  return jsonError(c, 500, "internal error in tollbooth", "server_error", "internal_error");
}
