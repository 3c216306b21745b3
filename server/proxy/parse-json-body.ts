import { ApiError } from "../errors.ts";

/** Parse a JSON object body; anything else is a 400 in OpenAI's shape. */
export function parseJsonObject(body: Uint8Array | null): Record<string, unknown> {
  if (!body || body.byteLength === 0) throw new ApiError(400, "invalid_request_error", "invalid_json", "request body must be a JSON object");
  let value: unknown;
  try {
    value = JSON.parse(Buffer.from(body.buffer, body.byteOffset, body.byteLength).toString("utf8"));
  } catch (err) {
    throw new ApiError(400, "invalid_request_error", "invalid_json", `request body is not valid JSON: ${(err as Error).message}`);
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new ApiError(400, "invalid_request_error", "invalid_json", "request body must be a JSON object");
  }
  return value as Record<string, unknown>;
}
