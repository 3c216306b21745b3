import type { Context } from "hono";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import { HTTPException } from "hono/http-exception";

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

export function errorBody(message: string, type: string, code: string | number | null) {
  return { error: { message, type, code } };
}

export function handleError(err: Error, c: Context): Response {
  if (err instanceof ApiError) return c.json(errorBody(err.message, err.type, err.code), err.status);
  if (err instanceof HTTPException) {
    return c.json(errorBody(err.message || "request failed", "invalid_request_error", String(err.status)), err.status as ContentfulStatusCode);
  }
  console.error("unhandled error", err);
  return c.json(errorBody("internal error in tollbooth", "server_error", "internal_error"), 500);
}
