import type { Context } from "hono";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import { HTTPException } from "hono/http-exception";

/**
 * Statuses an error may carry: Hono's list plus 499, nginx's "client closed request", which the
 * proxy records for a caller that hung up (nobody reads that answer, but the row keeps it).
 */
export type ErrorStatus = ContentfulStatusCode | 499;

/**
 * The one error type routes throw. app.onError turns it into OpenAI's error shape
 * `{"error":{"message","type","code"}}`, so proxy and /api fail the same way. Named fields:
 * type, code and message are all strings and easy to swap by position.
 */
export class ApiError extends Error {
  readonly status: ErrorStatus;
  readonly type: string;
  readonly code: string;

  constructor(error: { status: ErrorStatus; type: string; code: string; message: string }) {
    super(error.message);
    this.status = error.status;
    this.type = error.type;
    this.code = error.code;
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
export function jsonError(c: Context, status: ErrorStatus, message: string, type: string, code: string | number | null): Response {
  // Set by hono/request-id on /api only (api/index.ts); pages and unknown paths have none.
  const requestId: string | undefined = c.get("requestId");
  // 499 is a real status on the wire (Response takes 200-599), just not in Hono's type.
  return c.json(errorBody(message, type, code, requestId), status as ContentfulStatusCode);
}

export function handleError(err: Error, c: Context): Response {
  if (err instanceof ApiError) return jsonError(c, err.status, err.message, err.type, err.code);
  if (err instanceof HTTPException) {
    // A middleware that built its own answer (hono/bearer-auth: our 401 plus WWW-Authenticate).
    if (err.res) return err.getResponse();
    return jsonError(c, err.status as ContentfulStatusCode, err.message || "request failed", "invalid_request_error", String(err.status));
  }
  console.error("unhandled error", err);
  return jsonError(c, 500, "internal error in tollbooth", "server_error", "internal_error");
}
