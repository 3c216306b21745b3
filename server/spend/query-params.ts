import { ApiError } from "../errors.ts";
import { BUCKET_MS, TimeError, assertTimeZone, bucketEndAfter, isBucketAligned, parseInstant, startOf } from "../time.ts";
import { GROUP_KEYS, isCalendarUnit, type GroupKey, type UsageParams } from "./usage-query.ts";

// Query-string validation shared by the spend routes (usage, prices, jobs). Every failure is a
// 400 that names the parameter.

export function badParam(name: string, message: string): ApiError {
  return new ApiError({ status: 400, type: "invalid_request_error", code: "invalid_parameter", message: `${name}: ${message}` });
}

/** The one TimeError → 400 mapping: time arithmetic for parameter `name` that fails names it. */
export function timeParam<T>(name: string, compute: () => T): T {
  try {
    return compute();
  } catch (err) {
    if (err instanceof TimeError) throw badParam(name, err.message);
    throw err;
  }
}

/** Reject parameters the endpoint does not know, so a typo (groupby=) is not silently ignored. */
export function rejectUnknownParams(query: Record<string, string>, allowed: readonly string[]): void {
  for (const name of Object.keys(query)) {
    if (!allowed.includes(name)) throw badParam(name, `unknown parameter (allowed: ${allowed.join(", ")})`);
  }
}

export function parseTz(query: Record<string, string>, defaultTz: string): string {
  return timeParam("tz", () => assertTimeZone(query.tz ?? defaultTz));
}

/**
 * from/to must fall on 15-minute UTC boundaries: the answer is then an exact union of rollup
 * buckets, and stays exact after retention has deleted raw calls. Any whole hour or day in any
 * zone is such a boundary, so bare dates always work. Rejected rather than patched from raw
 * calls, which may no longer exist for old ranges.
 */
function parseBound(name: "from" | "to", text: string, tz: string): number {
  const ms = timeParam(name, () => parseInstant(text, tz));
  if (!isBucketAligned(ms)) {
    throw badParam(name, `must fall on a ${BUCKET_MS / 60_000}-minute boundary (minute 00, 15, 30 or 45 in UTC, no seconds), e.g. a whole hour or a date`);
  }
  return ms;
}

/** [from, to) from the query; defaults: start of the current month in tz, to the end of the current bucket. */
export function parseRange(query: Record<string, string>, tz: string, now: number): { from: number; to: number } {
  const from = query.from !== undefined ? parseBound("from", query.from, tz) : startOf("month", now, tz);
  const to = query.to !== undefined ? parseBound("to", query.to, tz) : bucketEndAfter(now);
  if (from >= to) throw badParam("from", "must be before to");
  return { from, to };
}

function parseGroupBy(text: string | undefined): GroupKey[] {
  if (text === undefined || text === "") return [];
  const keys = text.split(",").map((k) => k.trim());
  for (const key of keys) {
    if (!(GROUP_KEYS as string[]).includes(key)) throw badParam("group_by", `unknown key "${key.slice(0, 40)}" (allowed: ${GROUP_KEYS.join(", ")})`);
  }
  if (keys.length > 2) throw badParam("group_by", "at most two keys, e.g. day,model");
  if (keys.length === 2 && keys[0] === keys[1]) throw badParam("group_by", "the two keys must differ");
  if (keys.filter((k) => isCalendarUnit(k as GroupKey)).length > 1) throw badParam("group_by", "at most one of hour, day, week, month");
  return keys as GroupKey[];
}

const USAGE_FILTER_PARAMS = ["team", "project", "model"] as const;
const USAGE_PARAMS = ["from", "to", "group_by", "tz", ...USAGE_FILTER_PARAMS] as const;

/** ?team= / ?project= / ?model=: only calls with that exact value (empty = no filter). */
function parseFilter(query: Record<string, string>): UsageParams["filter"] {
  const filter: NonNullable<UsageParams["filter"]> = {};
  for (const name of USAGE_FILTER_PARAMS) {
    const value = query[name];
    if (value === undefined || value === "") continue;
    if (value.length > 256) throw badParam(name, "must be at most 256 characters");
    filter[name] = value;
  }
  return Object.keys(filter).length > 0 ? filter : undefined;
}

export function parseUsageParams(query: Record<string, string>, defaultTz: string, now: number): UsageParams {
  rejectUnknownParams(query, USAGE_PARAMS);
  const tz = parseTz(query, defaultTz);
  const filter = parseFilter(query);
  return { ...parseRange(query, tz, now), tz, groupBy: parseGroupBy(query.group_by), ...(filter ? { filter } : {}) };
}

/** ?limit= and ?cursor= (a next_cursor value: the last id of the previous page) of keyset lists. */
export function parsePage(query: Record<string, string>, defaultLimit: number, maxLimit: number): { limit: number; before?: number } {
  const limit = query.limit === undefined ? defaultLimit : Number(query.limit);
  if (!/^\d+$/.test(query.limit ?? "1") || !Number.isInteger(limit) || limit < 1 || limit > maxLimit) {
    throw badParam("limit", `must be an integer from 1 to ${maxLimit}`);
  }
  if (query.cursor === undefined) return { limit };
  const before = Number(query.cursor);
  if (!/^\d{1,15}$/.test(query.cursor)) throw badParam("cursor", "must be a next_cursor value from the previous page");
  return { limit, before };
}
