import { timingSafeEqual, createHash } from "node:crypto";
import type { Context, MiddlewareHandler } from "hono";
import { bearerAuth } from "hono/bearer-auth";
import { jsonError } from "./errors.ts";

// Compare digests, not the raw strings: timingSafeEqual needs equal lengths, and hashing first
// means the comparison time leaks neither the token's content nor its length.
function digest(s: string): Buffer {
  return createHash("sha256").update(s).digest();
}

export function tokenMatches(candidate: string, adminToken: string): boolean {
  return timingSafeEqual(digest(candidate), digest(adminToken));
}

// One answer for a missing header, a malformed one and a wrong token (hono/bearer-auth would
// answer the malformed case 400 in plain text): a client learns only that the token is not right.
const refuse = (c: Context) =>
  jsonError(c, 401, "missing or invalid admin token (Authorization: Bearer $ADMIN_TOKEN)", "authentication_error", "invalid_admin_token");

/** Bearer admin token on every /api route; 401 in OpenAI's error shape otherwise. */
export function requireAdminToken(adminToken: string): MiddlewareHandler {
  return bearerAuth({
    verifyToken: (token) => tokenMatches(token, adminToken),
    noAuthenticationHeader: { message: refuse },
    invalidAuthenticationHeader: { message: refuse },
    invalidToken: { message: refuse },
  });
}
