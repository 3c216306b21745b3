import { ApiError } from "../errors.ts";

/** Read a request body up to `max` bytes; larger → 413 without reading the rest into memory. */
export async function readBodyCapped(req: Request, max: number): Promise<Uint8Array | null> {
  const declared = Number(req.headers.get("content-length") ?? NaN);
  if (declared > max) throw tooLarge(max);
  if (!req.body) return null;
  const reader = req.body.getReader();
  const parts: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > max) {
      await reader.cancel().catch(() => {});
      throw tooLarge(max);
    }
    parts.push(value);
  }
  return parts.length === 1 ? parts[0]! : Buffer.concat(parts);
}

function tooLarge(max: number): ApiError {
  return new ApiError(413, "invalid_request_error", "request_too_large", `request body is larger than the limit of ${max} bytes (MAX_BODY_BYTES)`);
}

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
