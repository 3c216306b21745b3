import { z } from "zod";
import { TimeError, assertTimeZone, bucketEndAfter, parseInstant, startOf } from "../time.ts";
import { badInput, parseInput, queryText, strictQuery, timeIssue } from "../validation.ts";
import { GROUP_KEYS, isCalendarUnit, type GroupKey, type UsageParams } from "./usage-query.ts";

// Query-string schemas shared by the spend routes (usage, prices, jobs) and the spend page. Every
// failure is a 400 that names the parameter (server/validation.ts).

/** ?tz=: an IANA zone; the default (REPORT_TZ) is applied by the schema that uses it. */
export const tzParam = queryText()
  .superRefine((tz, ctx) => {
    timeIssue(ctx, () => assertTimeZone(tz));
  })
  .optional()
  .meta({ description: "IANA time zone (default REPORT_TZ)", example: "Europe/London" });

const boundText = (which: string) =>
  queryText().meta({ description: `ISO 8601 instant (any millisecond), or YYYY-MM-DD meaning midnight in tz (${which})`, example: "2026-11-01" });

/**
 * from/to may be any instant: whole 15-minute buckets come from the rollups and the partial
 * edges from raw calls (instant-range.ts rounds an edge outward, and says so, where retention
 * has deleted them). Returns the instant or what is wrong with it.
 */
function parseBound(text: string, tz: string): number | { problem: string } {
  let ms: number;
  try {
    ms = parseInstant(text, tz);
  } catch (err) {
    if (err instanceof TimeError) return { problem: err.message };
    throw err;
  }
  return ms;
}

type RangeResult = { from: number; to: number } | { name: "from" | "to"; problem: string };

/** [from, to) from the given texts; defaults: start of the current month in tz, to the end of the current bucket. */
function resolveRange(given: { from?: string | undefined; to?: string | undefined }, tz: string, now: number): RangeResult {
  const from = given.from !== undefined ? parseBound(given.from, tz) : startOf("month", now, tz);
  if (typeof from !== "number") return { name: "from", ...from };
  const to = given.to !== undefined ? parseBound(given.to, tz) : bucketEndAfter(now);
  if (typeof to !== "number") return { name: "to", ...to };
  if (from >= to) return { name: "from", problem: "must be before to" };
  return { from, to };
}

/** The range check for callers whose zone is not in the query (a report schedule's own zone). */
export function parseRange(given: { from?: string; to?: string }, tz: string, now: number): { from: number; to: number } {
  const range = resolveRange(given, tz, now);
  if ("problem" in range) throw badInput(range.name, range.problem);
  return range;
}

/** Resolve from/to (and tz) inside a schema's transform, reporting a bad bound as an issue on its name. */
function rangeIn(q: { from?: string | undefined; to?: string | undefined }, tz: string, now: number, ctx: z.RefinementCtx): { from: number; to: number } | null {
  const range = resolveRange(q, tz, now);
  if (!("problem" in range)) return range;
  ctx.addIssue({ code: "custom", path: [range.name], message: range.problem });
  return null;
}

const groupByParam = queryText()
  .optional()
  .transform((text, ctx): GroupKey[] => {
    if (text === undefined || text === "") return [];
    const keys = text.split(",").map((k) => k.trim());
    const fail = (message: string) => {
      ctx.addIssue({ code: "custom", message });
      return z.NEVER;
    };
    for (const key of keys) {
      if (!(GROUP_KEYS as string[]).includes(key)) return fail(`unknown key "${key.slice(0, 40)}" (allowed: ${GROUP_KEYS.join(", ")})`);
    }
    if (keys.length > 2) return fail("at most two keys, e.g. day,model");
    if (keys.length === 2 && keys[0] === keys[1]) return fail("the two keys must differ");
    if (keys.filter((k) => isCalendarUnit(k as GroupKey)).length > 1) return fail("at most one of hour, day, week, month");
    return keys as GroupKey[];
  })
  .meta({ description: `One or two of ${GROUP_KEYS.join(", ")}, comma-separated (at most one calendar unit)`, example: "day,model" });

/** ?team= / ?project= / ?model=: only calls with that exact value (empty = no filter). */
const filterParam = (name: string) =>
  queryText().max(256, "must be at most 256 characters").optional().meta({ description: `Only calls with this exact ${name} (empty: no filter)` });

/**
 * GET /api/usage, /api/usage.csv and the spend page. `now` is read when a query is parsed, for
 * the default range (this month to now).
 */
export function usageQuery(defaultTz: string, now: () => number) {
  return strictQuery({
    from: boundText("inclusive; default the start of this month").optional(),
    to: boundText("exclusive; default now").optional(),
    group_by: groupByParam,
    tz: tzParam,
    team: filterParam("team"),
    project: filterParam("project"),
    model: filterParam("model"),
  }).transform((q, ctx): UsageParams => {
    const tz = q.tz ?? defaultTz;
    const range = rangeIn(q, tz, now(), ctx);
    if (!range) return z.NEVER;
    const filter: NonNullable<UsageParams["filter"]> = {};
    for (const name of ["team", "project", "model"] as const) if (q[name]) filter[name] = q[name];
    return { ...range, tz, groupBy: q.group_by, ...(Object.keys(filter).length > 0 ? { filter } : {}) };
  });
}

export function parseUsageParams(query: Record<string, string>, defaultTz: string, now: number): UsageParams {
  return parseInput(usageQuery(defaultTz, () => now), query, "query");
}

/** A required range in the query (POST /api/prices/reprice): from, to and the zone of bare dates. */
export function rangeQuery(defaultTz: string, now: () => number) {
  return strictQuery({ from: boundText("inclusive"), to: boundText("exclusive"), tz: tzParam }).transform((q, ctx) => {
    const range = rangeIn(q, q.tz ?? defaultTz, now(), ctx);
    return range ?? z.NEVER;
  });
}

/** ?limit= and ?cursor= (a next_cursor value: the last id of the previous page) of keyset lists. */
export function pageParams(defaultLimit: number, maxLimit: number) {
  return {
    limit: queryText()
      .regex(/^\d{1,9}$/, `must be an integer from 1 to ${maxLimit}`)
      .transform(Number)
      .pipe(z.number().min(1, `must be an integer from 1 to ${maxLimit}`).max(maxLimit, `must be an integer from 1 to ${maxLimit}`))
      .optional()
      .default(defaultLimit)
      .meta({ description: `Page size, 1–${maxLimit} (default ${defaultLimit})` }),
    cursor: queryText()
      .regex(/^\d{1,15}$/, "must be a next_cursor value from the previous page")
      .transform(Number)
      .optional()
      .meta({ description: "next_cursor of the previous page" }),
  };
}
