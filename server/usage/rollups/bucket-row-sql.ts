import { BUCKET_MS } from "../../time.ts";

// How one call row becomes one rollup_every_dim_15m contribution, as SQL over `calls`. The rollup and
// the usage query's fresh tail (calls past the watermark) both use these expressions, so a call
// counts the same whether it has been rolled up yet or not. Plain SQL with a direct PostgreSQL
// twin (integer division and modulo behave the same on non-negative integers).

/** Bucket start: created_at floored to BUCKET_MS (15 minutes). */
export const BUCKET_START_SQL = `(created_at - created_at % ${BUCKET_MS})`;

/** '2xx' | '4xx' | '5xx' | … for HTTP statuses, 'other' for anything else (e.g. 0). */
const STATUS_CLASS_SQL = `(CASE WHEN status >= 100 AND status < 600 THEN CAST(status / 100 AS TEXT) || 'xx' ELSE 'other' END)`;

/** A failure: an HTTP error status or an error seen inside a 2xx stream. */
const IS_ERROR_SQL = `(CASE WHEN status >= 400 OR error_type IS NOT NULL THEN 1 ELSE 0 END)`;

/**
 * Unpriced: a call of a model that had no price. Calls without a model (GET /v1/models, bodies
 * that could not be parsed) have nothing to price: they count as requests with cost 0 and are
 * not "unpriced", or every model listing would raise an alarm.
 */
const IS_UNPRICED_SQL = `(CASE WHEN model IS NOT NULL AND cost_nano IS NULL THEN 1 ELSE 0 END)`;

/**
 * Dimension columns of rollup_every_dim_15m and the call expression that fills each. '' stands for
 * "none" because SQLite treats NULLs as distinct in the upsert's unique index.
 */
export const DIMENSION_SQL = {
  model: "COALESCE(model, '')",
  key_id: "COALESCE(key_id, '')",
  team: "COALESCE(team, '')",
  project: "COALESCE(project, '')",
  user: `COALESCE("user", '')`,
  status_class: STATUS_CLASS_SQL,
} as const;
export type DimensionColumn = keyof typeof DIMENSION_SQL;

/** Measure columns of rollup_every_dim_15m and the per-call value each sums. */
export const MEASURE_SQL = {
  requests: "1",
  errors: IS_ERROR_SQL,
  prompt_tokens: "COALESCE(prompt_tokens, 0)",
  completion_tokens: "COALESCE(completion_tokens, 0)",
  cost_nano: "COALESCE(cost_nano, 0)",
  unpriced_requests: IS_UNPRICED_SQL,
  duration_ms_sum: "duration_ms",
} as const;
export type MeasureColumn = keyof typeof MEASURE_SQL;

/** Quote a column name ("user" is reserved in PostgreSQL). */
export function col(name: string): string {
  return `"${name}"`;
}
