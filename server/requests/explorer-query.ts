import type { Db } from "../db/open.ts";
import { ApiError } from "../errors.ts";
import { resolveKey } from "./key-match.ts";
import { resolveModels } from "./model-match.ts";
import { parseRequestFilters, type RequestFilters } from "./filters.ts";
import { TimeError, nextPeriodStart, parseInstant, toIso } from "../time.ts";

// The request explorer's URL → RequestFilters. The page speaks in form terms (a relative range,
// calendar dates with an inclusive end); everything else goes through the API's own validator,
// so the page and GET /api/requests accept and refuse the same filters.

/** The explorer form's fields as typed (strings; empty = unset), echoed back into the form. */
export interface ExplorerQuery {
  status: string;
  model: string;
  team: string;
  project: string;
  user: string;
  key: string;
  error_type: string;
  q: string;
  range: string;
  from: string;
  to: string;
}

export const RANGE_MS: Record<string, number> = {
  "1h": 3_600_000,
  "24h": 86_400_000,
  "7d": 7 * 86_400_000,
  "30d": 30 * 86_400_000,
};

const FIELDS = ["status", "model", "team", "project", "user", "key", "error_type", "q", "range", "from", "to"] as const;

export interface ExplorerInput {
  query: ExplorerQuery;
  filters: RequestFilters;
  /** Current filters as a query string (no cursor, empty fields left out). */
  queryString: string;
  unfiltered: boolean;
  error: string | null;
}

/** `tz`: the page's zone, in which the date boxes' days start and end (the API's bare dates are UTC). */
export function parseExplorerQuery(params: URLSearchParams, now: number, tz: string): ExplorerInput {
  const query = Object.fromEntries(FIELDS.map((f) => [f, params.get(f)?.trim() ?? ""])) as unknown as ExplorerQuery;
  const kept = new URLSearchParams();
  for (const f of FIELDS) if (query[f] !== "") kept.set(f, query[f]);
  const queryString = kept.toString();
  const unfiltered = queryString === "";

  const api = new URLSearchParams(kept);
  api.delete("range");
  try {
    if (query.range !== "") {
      const span = RANGE_MS[query.range];
      if (span === undefined) throw new TimeError(`range: expected one of ${Object.keys(RANGE_MS).join(", ")}`);
      if (query.from === "") api.set("from", toIso(now - span));
    }
    // The date boxes are days in the page's zone; a date picker's "to" day is meant inclusively
    // and the API's `to` is exclusive.
    const dateOnly = /^\d{4}-\d{2}-\d{2}$/;
    if (dateOnly.test(query.from)) api.set("from", toIso(parseInstant(query.from, tz)));
    if (dateOnly.test(query.to)) api.set("to", toIso(nextPeriodStart("day", parseInstant(query.to, tz), tz)));
    const cursor = params.get("cursor");
    if (cursor) api.set("cursor", cursor);
    return { query, filters: parseRequestFilters(api), queryString, unfiltered, error: null };
  } catch (err) {
    if (err instanceof ApiError || err instanceof TimeError) return { query, filters: {}, queryString, unfiltered, error: err.message };
    throw err;
  }
}

/** The key and model filters resolved to what they name (key-match.ts, model-match.ts), or the reason they name nothing as the page's error. */
export async function withResolvedKey(db: Db, input: ExplorerInput): Promise<ExplorerInput> {
  if (input.error || (input.filters.key === undefined && input.filters.model === undefined)) return input;
  try {
    const { key, model } = input.filters;
    const resolved = { ...(key === undefined ? {} : { key: await resolveKey(db, key) }), ...(model === undefined ? {} : { models: await resolveModels(db, model) }) };
    return { ...input, filters: { ...input.filters, ...resolved } };
  } catch (err) {
    if (err instanceof ApiError) return { ...input, filters: {}, error: err.message };
    throw err;
  }
}
