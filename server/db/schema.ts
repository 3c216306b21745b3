import { sql } from "drizzle-orm";
import { index, integer, sqliteTable, text, uniqueIndex } from "drizzle-orm/sqlite-core";

// Every table tollbooth keeps. Times are integer epoch milliseconds (UTC) so range filters and
// 15-minute bucketing are integer arithmetic; the API turns them into ISO 8601 strings.
// Money is integer nano-USD (calls, buckets) or micro-USD per 1M tokens (prices): see server/money.ts.

/** One row per call that reached the proxy, successful or not. */
export const calls = sqliteTable(
  "calls",
  {
    // Monotonic: assigned at insert, so it is the rollup watermark (a late row gets a higher id).
    id: integer("id").primaryKey({ autoIncrement: true }),
    // Assigned when the call arrives; unique so a retried batch can never write a call twice.
    requestId: text("request_id").notNull(),
    createdAt: integer("created_at").notNull(),
    model: text("model"),
    endpoint: text("endpoint").notNull(),
    stream: integer("stream", { mode: "boolean" }).notNull().default(false),
    status: integer("status").notNull(),
    errorType: text("error_type"),
    errorMessage: text("error_message"),
    promptTokens: integer("prompt_tokens"),
    completionTokens: integer("completion_tokens"),
    totalTokens: integer("total_tokens"),
    usageSource: text("usage_source", { enum: ["upstream", "estimated", "none"] }).notNull(),
    durationMs: integer("duration_ms").notNull(),
    ttftMs: integer("ttft_ms"),
    keyId: text("key_id"),
    team: text("team"),
    project: text("project"),
    user: text("user"),
    upstreamRequestId: text("upstream_request_id"),
    // null = unpriced (model without a price at created_at), never 0 by default.
    costNano: integer("cost_nano"),
  },
  (t) => [
    uniqueIndex("calls_request_id_uq").on(t.requestId),
    // /api/requests newest-first keyset pages and time-range filters.
    index("calls_created_idx").on(t.createdAt, t.id),
    // /api/requests?model=… pages.
    index("calls_model_created_idx").on(t.model, t.createdAt, t.id),
    // /api/requests?team=… pages.
    index("calls_team_created_idx").on(t.team, t.createdAt, t.id),
    // /api/requests?key=… pages.
    index("calls_key_created_idx").on(t.keyId, t.createdAt, t.id),
    // /api/requests?status=error: failures are a small share, so a partial index stays small.
    index("calls_failed_created_idx")
      .on(t.createdAt, t.id)
      .where(sql`status >= 400 OR error_type IS NOT NULL`),
  ],
);

/** Request/response bodies, stored per LOG_BODIES and capped; kept apart so calls stays narrow. */
export const callBodies = sqliteTable("call_bodies", {
  callId: integer("call_id")
    .primaryKey()
    .references(() => calls.id, { onDelete: "cascade" }),
  requestBody: text("request_body"),
  responseBody: text("response_body"),
  truncated: integer("truncated", { mode: "boolean" }).notNull().default(false),
});

/** Effective-dated price catalog: a row applies from effective_from until the next row's start. */
export const prices = sqliteTable(
  "prices",
  {
    id: integer("id").primaryKey({ autoIncrement: true }),
    model: text("model").notNull(),
    inputMicroPerMtok: integer("input_micro_per_mtok").notNull(),
    outputMicroPerMtok: integer("output_micro_per_mtok").notNull(),
    currency: text("currency").notNull().default("USD"),
    effectiveFrom: integer("effective_from").notNull(),
    source: text("source", { enum: ["seed", "sync", "admin"] }).notNull(),
    createdAt: integer("created_at").notNull(),
  },
  (t) => [
    // Price lookup for a call: the latest row of its model with effective_from <= created_at.
    index("prices_model_from_idx").on(t.model, t.effectiveFrom),
  ],
);

/**
 * 15-minute aggregates of calls. 15 minutes divides every IANA offset in use (+05:45 included),
 * so any calendar day in any zone is an exact union of buckets. Dimension columns use '' for
 * "none" because SQLite treats NULLs as distinct in unique indexes, which would break upserts.
 */
export const usageBuckets = sqliteTable(
  "usage_buckets",
  {
    bucketStart: integer("bucket_start").notNull(),
    model: text("model").notNull().default(""),
    keyId: text("key_id").notNull().default(""),
    team: text("team").notNull().default(""),
    project: text("project").notNull().default(""),
    user: text("user").notNull().default(""),
    statusClass: text("status_class").notNull(),
    requests: integer("requests").notNull().default(0),
    errors: integer("errors").notNull().default(0),
    promptTokens: integer("prompt_tokens").notNull().default(0),
    completionTokens: integer("completion_tokens").notNull().default(0),
    costNano: integer("cost_nano").notNull().default(0),
    unpricedRequests: integer("unpriced_requests").notNull().default(0),
    durationMsSum: integer("duration_ms_sum").notNull().default(0),
  },
  (t) => [
    // The upsert key of the rollup; also serves range scans by bucket_start.
    uniqueIndex("usage_buckets_key_uq").on(
      t.bucketStart,
      t.model,
      t.keyId,
      t.team,
      t.project,
      t.user,
      t.statusClass,
    ),
  ],
);

/** Named counters, e.g. the rollup watermark (highest call id already in usage_buckets). */
export const jobState = sqliteTable("job_state", {
  name: text("name").primaryKey(),
  value: integer("value").notNull(),
});

/** One row per job run, for /api/jobs and the jobs page. */
export const jobRuns = sqliteTable(
  "job_runs",
  {
    id: integer("id").primaryKey({ autoIncrement: true }),
    job: text("job").notNull(),
    startedAt: integer("started_at").notNull(),
    finishedAt: integer("finished_at"),
    rows: integer("rows"),
    error: text("error"),
  },
  (t) => [
    // /api/jobs: latest runs first.
    index("job_runs_started_idx").on(t.startedAt),
  ],
);

export type Call = typeof calls.$inferSelect;
export type NewCall = typeof calls.$inferInsert;
export type Price = typeof prices.$inferSelect;
export type UsageBucket = typeof usageBuckets.$inferSelect;
export type JobRun = typeof jobRuns.$inferSelect;
