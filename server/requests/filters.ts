import { z } from "zod";
import { ApiError } from "../errors.ts";
import { TimeError, parseInstant } from "../time.ts";

// Query-string validation for the request explorer (GET /api/requests and the pages that share
// it). Everything here turns untrusted strings into typed values; query.ts never sees raw input.

export const DEFAULT_LIMIT = 50;
const MAX_LIMIT = 500;

/** Position after the last row of a page: rows are ordered by (created_at desc, id desc). */
export interface RequestCursor {
  createdAt: number;
  id: number;
}

export interface RequestFilters {
  /** "ok": status < 400 without error_type; "error": any failure; a number: that exact status. */
  status?: "ok" | "error" | number;
  model?: string;
  team?: string;
  project?: string;
  user?: string;
  /** Matches calls.key_id (the key fingerprint). */
  key?: string;
  /** Epoch ms, inclusive. */
  from?: number;
  /** Epoch ms, exclusive. */
  to?: number;
  /** Case-insensitive substring of error_message. */
  q?: string;
  limit?: number;
  cursor?: RequestCursor;
}

// Opaque to clients, but just "<created_at>.<id>" inside: enough for keyset paging and trivially
// portable to PostgreSQL's row comparison.
export function encodeCursor(c: RequestCursor): string {
  return Buffer.from(`${c.createdAt}.${c.id}`).toString("base64url");
}

export function decodeCursor(s: string): RequestCursor | null {
  if (!/^[A-Za-z0-9_-]{1,64}$/.test(s)) return null;
  const m = /^(\d{1,16})\.(\d{1,16})$/.exec(Buffer.from(s, "base64url").toString("utf8"));
  if (!m) return null;
  const createdAt = Number(m[1]);
  const id = Number(m[2]);
  if (!Number.isSafeInteger(createdAt) || !Number.isSafeInteger(id)) return null;
  // Buffer's decoder skips junk characters; insisting on the canonical spelling means a mangled
  // cursor is a 400 instead of silently paging from somewhere else.
  return encodeCursor({ createdAt, id }) === s ? { createdAt, id } : null;
}

const text = (max: number) => z.string().max(max, `must be at most ${max} characters`);
// /api/requests has no tz parameter: a bare date is midnight UTC.
const instant = z.string().transform((s, ctx) => {
  try {
    return parseInstant(s, "UTC");
  } catch (err) {
    if (!(err instanceof TimeError)) throw err;
    ctx.addIssue({ code: "custom", message: "expected an ISO 8601 instant with Z or an offset, or YYYY-MM-DD" });
    return z.NEVER;
  }
});

const limitMessage = `expected an integer from 1 to ${MAX_LIMIT}`;

const filterFields = {
  status: z
    .string()
    .regex(/^(ok|error|[1-5]\d\d)$/, "expected ok, error or a 3-digit HTTP status")
    .transform((s) => (s === "ok" || s === "error" ? s : Number(s))),
  model: text(256),
  team: text(256),
  project: text(256),
  user: text(256),
  key: text(256),
  from: instant,
  to: instant,
  // A NUL would end the text early for SQLite's LIKE and FTS5's query parser alike.
  q: text(200).refine((s) => !s.includes("\0"), "must not contain a NUL character"),
  limit: z
    .string()
    .regex(/^\d{1,4}$/, limitMessage)
    .transform(Number)
    .pipe(z.number().min(1, limitMessage).max(MAX_LIMIT, limitMessage)),
  cursor: z.string().transform((s, ctx) => {
    const c = decodeCursor(s);
    if (!c) ctx.addIssue({ code: "custom", message: "not a cursor returned by this API (use next_cursor as is)" });
    return c ?? z.NEVER;
  }),
};
const filterNames = Object.keys(filterFields);

const filtersSchema = z
  .strictObject(filterFields)
  .partial()
  .refine((f) => f.from === undefined || f.to === undefined || f.from < f.to, { message: "must be later than from", path: ["to"] });

/**
 * Validate a query string into RequestFilters; throws ZodError/ApiError, which app.onError turns
 * into a 400 naming the parameter. Unknown or repeated names are refused, so a typo never silently
 * widens the result and `model=a&model=b` never quietly means one of them. Empty values count as
 * absent, so a dashboard form can submit every field.
 */
export function parseRequestFilters(params: URLSearchParams): RequestFilters {
  const raw: Record<string, string> = {};
  for (const [name, value] of params) {
    if (!filterNames.includes(name)) {
      throw new ApiError({ status: 400, type: "invalid_request_error", code: "invalid_parameter", message: `${name}: unknown parameter (expected ${filterNames.join(", ")})` });
    }
    if (Object.hasOwn(raw, name)) throw new ApiError({ status: 400, type: "invalid_request_error", code: "invalid_parameter", message: `${name}: given more than once` });
    raw[name] = value;
  }
  const present = Object.fromEntries(Object.entries(raw).filter(([, v]) => v !== ""));
  return filtersSchema.parse(present);
}

/**
 * The :id of /api/requests/:id — digits are the integer call id, anything else is a request_id.
 * Refuses what could be neither, so a typo gets a 400 instead of a misleading 404.
 */
export function parseRequestRef(raw: string): number | string {
  if (/^\d+$/.test(raw)) {
    const id = Number(raw);
    if (raw.length <= 16 && Number.isSafeInteger(id) && id > 0) return id;
  } else if (/^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$/.test(raw)) {
    return raw;
  }
  throw new ApiError({ status: 400, type: "invalid_request_error", code: "invalid_parameter", message: "id: expected a positive integer call id or a request_id" });
}
