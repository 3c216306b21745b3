import { timingSafeEqual, createHash } from "node:crypto";
import type { MiddlewareHandler } from "hono";
import { ApiError } from "./errors.ts";

// Compare digests, not the raw strings: timingSafeEqual needs equal lengths, and hashing first
// means the comparison time leaks neither the token's content nor its length.
function digest(s: string): Buffer {
  return createHash("sha256").update(s).digest();
}

export function tokenMatches(candidate: string, adminToken: string): boolean {
  return timingSafeEqual(digest(candidate), digest(adminToken));
}

/** Bearer admin token on every /api route; 401 in OpenAI's error shape otherwise. */
export function requireAdminToken(adminToken: string): MiddlewareHandler {
  return async (c, next) => {
    const header = c.req.header("authorization") ?? "";
    const match = /^Bearer\s+(.+)$/i.exec(header);
    if (!match || !tokenMatches(match[1]!.trim(), adminToken)) {
      throw new ApiError(401, "authentication_error", "invalid_admin_token", "missing or invalid admin token (Authorization: Bearer $ADMIN_TOKEN)");
    }
    await next();
  };
}
