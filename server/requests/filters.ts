import { z } from "zod";
import { TimeError, parseInstant } from "../time.ts";
import { parseInput, queryText, strictQuery } from "../validation.ts";

// Query-string validation for the request explorer (GET /api/requests and the pages that share
// it). Everything here turns untrusted strings into typed values; query.ts never sees raw input.

export const DEFAULT_LIMIT = 50;
/** ?error_type=none: calls without an error type (a failed status alone). */
export const NO_ERROR_TYPE = "none";
const MAX_LIMIT = 500;

/** Position after the last row of a page: rows are ordered by (created_at desc, id desc). */
export interface RequestCursor {
  createdAt: number;
  id: number;
}

export interface RequestFilters {
  /** "ok": status < 400 without error_type; "error": any failure; a number: that exact status. */
  status?: "ok" | "error" | number;
  /** Part of a model name; the handlers resolve it to the models containing it (model-match.ts). */
  model?: string;
  /** The exact models to match, set from `model` by model-match.ts. */
  models?: string[];
  team?: string;
  project?: string;
  user?: string;
  /**
   * A key: its full fingerprint (calls.key_id), the shown form (`fe303d..Lm4R`), or any prefix
   * or suffix of it; the handlers resolve it to one key_id (key-match.ts) before querying.
   */
  key?: string;
  /** Exact error_type; NO_ERROR_TYPE = calls without one. */
  errorType?: string;
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
  error_type: text(100),
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
const filtersSchema = z
  .strictObject(filterFields)
  .partial()
  .refine((f) => f.from === undefined || f.to === undefined || f.from < f.to, { message: "must be later than from", path: ["to"] });

const FILTER_DESCRIPTIONS: Record<keyof typeof filterFields, string> = {
  status: "ok (status < 400 and no error_type), error (any failure) or an exact 3-digit HTTP status",
  model: "A model, or part of its name in any case (every recorded model containing it)",
  team: "Exact team",
  project: "Exact project",
  user: "Exact user",
  key: "A key: its fingerprint (key_id), the shown form (fe303d..Lm4R), or any unambiguous prefix or suffix of it",
  error_type: `Exact error_type (e.g. server_error); ${"`none`"} = failed calls without one`,
  from: "ISO 8601 instant with Z or an offset, or YYYY-MM-DD (midnight UTC); inclusive",
  to: "ISO 8601 instant with Z or an offset, or YYYY-MM-DD (midnight UTC); exclusive",
  q: "Text anywhere in a failed call's error message, any case, plain text (at most 200 characters)",
  limit: `Page size, 1–${MAX_LIMIT} (default ${DEFAULT_LIMIT})`,
  cursor: "next_cursor of the previous page, as is",
};

/**
 * The explorer's query string (GET /api/requests and the pages that share it) into
 * RequestFilters. Unknown or repeated names are refused, so a typo never silently widens the
 * result and `model=a&model=b` never quietly means one of them. Empty values count as absent, so
 * a dashboard form can submit every field; the typed checks run on what is left.
 */
export const requestFiltersQuery = strictQuery(
  Object.fromEntries(Object.entries(FILTER_DESCRIPTIONS).map(([name, description]) => [name, queryText().optional().meta({ description })])) as Record<
    keyof typeof filterFields,
    z.ZodOptional<ReturnType<typeof queryText>>
  >,
).transform((raw, ctx): RequestFilters => {
  const present = Object.fromEntries(Object.entries(raw).filter(([, v]) => v !== undefined && v !== ""));
  const parsed = filtersSchema.safeParse(present);
  if (parsed.success) {
    const { error_type, ...rest } = parsed.data;
    return error_type === undefined ? rest : { ...rest, errorType: error_type };
  }
  for (const issue of parsed.error.issues) ctx.addIssue({ ...issue, code: "custom" });
  return z.NEVER;
});

/** As requestFiltersQuery, from a URL's parameters (a repeated name arrives as an array and is refused). */
export function parseRequestFilters(params: URLSearchParams): RequestFilters {
  const raw: Record<string, string | string[]> = {};
  for (const name of new Set(params.keys())) {
    const values = params.getAll(name);
    raw[name] = values.length === 1 ? values[0]! : values;
  }
  return parseInput(requestFiltersQuery, raw, "query");
}

const REF_RULE = "expected a positive integer call id or a request_id";

/**
 * The :id of /api/requests/:id — digits are the integer call id, anything else is a request_id.
 * Refuses what could be neither, so a typo gets a 400 instead of a misleading 404.
 */
export const requestRef = z
  .string()
  .transform((raw, ctx): number | string => {
    if (/^\d+$/.test(raw)) {
      const id = Number(raw);
      if (raw.length <= 16 && Number.isSafeInteger(id) && id > 0) return id;
    } else if (/^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$/.test(raw)) {
      return raw;
    }
    ctx.addIssue({ code: "custom", message: REF_RULE });
    return z.NEVER;
  })
  .meta({ param: { name: "id", in: "path" }, description: "The call's integer id or its request_id", example: "42" });

export function parseRequestRef(raw: string): number | string {
  return parseInput(z.object({ id: requestRef }), { id: raw }, "param").id;
}
