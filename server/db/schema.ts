import { sql } from "drizzle-orm";
import { index, integer, primaryKey, sqliteTable, text, uniqueIndex } from "drizzle-orm/sqlite-core";

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
    // It carries the message too, so a search too short for the text index (1–2 characters)
    // tests its budget of failures on this index alone and reads only the matches' rows: 17 MB
    // at 10M calls, and ~10× faster than a row read per failure (bench:requests, q=zq p95 20-23 ms
    // -> 2-3 ms). Not on PostgreSQL (schema-pg.ts).
    index("calls_failed_created_idx")
      .on(t.createdAt, t.id, t.errorMessage)
      .where(sql`status >= 400 OR error_type IS NOT NULL`),
    // /api/requests?status=error&model=… (and &team=…): without these, a rare model's failures
    // are found by walking every call of the team or model (65 ms at 10M calls, bench/spend-*);
    // with them, a few hundred index entries (≤ 8 ms). Partial, so they cost ~3 % of calls.
    index("calls_failed_model_created_idx")
      .on(t.model, t.createdAt, t.id)
      .where(sql`status >= 400 OR error_type IS NOT NULL`),
    // /api/requests?status=error&team=….
    index("calls_failed_team_created_idx")
      .on(t.team, t.createdAt, t.id)
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

// Rollups come at three widths with identical shapes: 15 minutes (rollup_every_dim_15m,
// rollup_one_dim_15m), whole UTC hours (…_hourly) and whole UTC days (…_daily). The 15-minute level
// is the truth kept forever; each coarser row is the sum of the finer rows inside it, written in
// the same rollup transaction. A query reads whole days where it can, whole hours next to them
// and 15-minute rows only at the edges (server/usage/rollups/rollup-levels.ts), so a month × model is
// ~300 rows instead of ~29,000.

/** Dimension columns of the all-dimensions rollups ('' = none, see rollupEveryDim15m). */
const everyDimKeyColumns = () => ({
  bucketStart: integer("bucket_start").notNull(),
  model: text("model").notNull().default(""),
  keyId: text("key_id").notNull().default(""),
  team: text("team").notNull().default(""),
  project: text("project").notNull().default(""),
  user: text("user").notNull().default(""),
  statusClass: text("status_class").notNull(),
});

/** Key columns of the one-dimension rollups: which dimension, which bucket, which value. */
const oneDimKeyColumns = () => ({
  dim: text("dim", { enum: ["model", "key_id", "team", "project", "user", "status_class"] }).notNull(),
  bucketStart: integer("bucket_start").notNull(),
  value: text("value").notNull(),
});

/** What every rollup row sums (see MEASURE_SQL in server/usage/rollups/bucket-row-sql.ts). */
const measureColumns = () => ({
  requests: integer("requests").notNull().default(0),
  errors: integer("errors").notNull().default(0),
  promptTokens: integer("prompt_tokens").notNull().default(0),
  completionTokens: integer("completion_tokens").notNull().default(0),
  costNano: integer("cost_nano").notNull().default(0),
  unpricedRequests: integer("unpriced_requests").notNull().default(0),
  durationMsSum: integer("duration_ms_sum").notNull().default(0),
});

/**
 * 15-minute aggregates of calls. 15 minutes divides every IANA offset in use (+05:45 included),
 * so any calendar day in any zone is an exact union of buckets. Dimension columns use '' for
 * "none" because SQLite treats NULLs as distinct in unique indexes, which would break upserts.
 */
export const rollupEveryDim15m = sqliteTable("rollup_every_dim_15m", { ...everyDimKeyColumns(), ...measureColumns() }, (t) => [
  // The upsert key of the rollup; also serves range scans by bucket_start.
  // Named before migration 0012 renamed the table (renaming an index means rebuilding it).
  uniqueIndex("usage_buckets_key_uq").on(t.bucketStart, t.model, t.keyId, t.team, t.project, t.user, t.statusClass),
]);

/**
 * The same 15-minute aggregates one dimension at a time: a row per (dim, bucket, value). With many
 * keys and users, rollup_every_dim_15m holds nearly one row per call (every combination is distinct);
 * here a bucket has at most the sum of the dimensions' cardinalities, so totals and one-dimension
 * breakdowns (day × model, the dashboards' staple) stay fast at 10M calls. Written in the same
 * rollup transaction as rollup_every_dim_15m, so both always cover the same calls.
 */
export const rollupOneDim15m = sqliteTable("rollup_one_dim_15m", { ...oneDimKeyColumns(), ...measureColumns() }, (t) => [
  // The rollup's upsert key; /api/usage range-scans one dimension by bucket_start.
  // Named before migration 0012 renamed the table (renaming an index means rebuilding it).
  uniqueIndex("usage_dim_buckets_key_uq").on(t.dim, t.bucketStart, t.value),
]);

// The coarser levels. Their primary key is the upsert key and the range-scan key at once, and
// migration 0006 makes them WITHOUT ROWID (Drizzle cannot say so): the rows then live in the
// key's B-tree, so a range scan reads the measures beside the key instead of one rowid lookup
// per row, and an upsert writes one B-tree instead of two (measured: reads ~1.2–2× faster,
// file ~40 % smaller, inserts ~1.5× faster than a rowid table with a unique index).

/** rollup_every_dim_15m summed over whole UTC hours (bucket_start = the hour). */
export const rollupEveryDimHour = sqliteTable("rollup_every_dim_hour", { ...everyDimKeyColumns(), ...measureColumns() }, (t) => [
  // Upsert key; /api/usage range-scans bucket_start (with a filter or two dimensions).
  primaryKey({ columns: [t.bucketStart, t.model, t.keyId, t.team, t.project, t.user, t.statusClass] }),
]);

/** rollup_one_dim_15m summed over whole UTC hours. */
export const rollupOneDimHour = sqliteTable("rollup_one_dim_hour", { ...oneDimKeyColumns(), ...measureColumns() }, (t) => [
  // Upsert key; /api/usage range-scans one dimension by bucket_start.
  primaryKey({ columns: [t.dim, t.bucketStart, t.value] }),
]);

/** rollup_every_dim_15m summed over whole UTC days (bucket_start = 00:00Z). */
export const rollupEveryDimDay = sqliteTable("rollup_every_dim_day", { ...everyDimKeyColumns(), ...measureColumns() }, (t) => [
  // Upsert key; /api/usage range-scans bucket_start (with a filter or two dimensions).
  primaryKey({ columns: [t.bucketStart, t.model, t.keyId, t.team, t.project, t.user, t.statusClass] }),
]);

/** rollup_one_dim_15m summed over whole UTC days. */
export const rollupOneDimDay = sqliteTable("rollup_one_dim_day", { ...oneDimKeyColumns(), ...measureColumns() }, (t) => [
  // Upsert key; /api/usage range-scans one dimension by bucket_start.
  primaryKey({ columns: [t.dim, t.bucketStart, t.value] }),
]);

// The no-key-user family: rollup_every_dim_15m without key_id and user, the two dimensions
// with the most values. Two-dimension breakdowns and filters over model, team, project and status
// (model × team, team × project, a team-scoped report by model) read these instead: a bucket then
// holds at most one row per (model, team, project, status class), not nearly one per call. Written
// in the same rollup transaction from the same delta, rebuilt and repriced with the others, kept
// forever like them. WITHOUT ROWID at every level (migration 0009; Drizzle cannot declare it).

/** Dimension columns of the no-key-user rollups ('' = none, see rollupEveryDim15m). */
const noKeyUserKeyColumns = () => ({
  bucketStart: integer("bucket_start").notNull(),
  model: text("model").notNull().default(""),
  team: text("team").notNull().default(""),
  project: text("project").notNull().default(""),
  statusClass: text("status_class").notNull(),
});

/** rollup_every_dim_15m summed over key_id and user, per 15-minute bucket. */
export const rollupNoKeyUser15m = sqliteTable("rollup_no_key_user_15m", { ...noKeyUserKeyColumns(), ...measureColumns() }, (t) => [
  // Upsert key; /api/usage range-scans bucket_start (two dimensions or a filter, no key or user).
  primaryKey({ columns: [t.bucketStart, t.model, t.team, t.project, t.statusClass] }),
]);

/** rollup_no_key_user_15m summed over whole UTC hours. */
export const rollupNoKeyUserHour = sqliteTable("rollup_no_key_user_hour", { ...noKeyUserKeyColumns(), ...measureColumns() }, (t) => [
  primaryKey({ columns: [t.bucketStart, t.model, t.team, t.project, t.statusClass] }),
]);

/** rollup_no_key_user_15m summed over whole UTC days. */
export const rollupNoKeyUserDay = sqliteTable("rollup_no_key_user_day", { ...noKeyUserKeyColumns(), ...measureColumns() }, (t) => [
  primaryKey({ columns: [t.bucketStart, t.model, t.team, t.project, t.statusClass] }),
]);

// The two-dimension family: rollup_every_dim_15m two dimensions at a time, a row per (pair, bucket, a, b), the
// two-dimension twin of rollup_one_dim_15m. A two-column question (model × team, key × user, the
// users of one team) reads only the combinations of those two columns that occur: in the last 30
// days of the 10M-call benchmark a day holds 99 model × team rows (765 narrow rows, 15,400 wide)
// and 1,300 key × user rows, so the GROUP BY that dominated such queries sorts thousands of rows,
// not tens or hundreds of thousands. `pair` names the two columns in the canonical order of
// DIMENSION_SQL (bucket-row-sql.ts), e.g. "model,team"; a and b hold their values ('' = none, see
// rollupEveryDim15m). All 15 pairs of the six dimensions are kept, at whole hours and days only: a
// query reads 15-minute buckets only at the ragged edges of its periods (less than an hour at
// each end), and reads those from rollup_no_key_user_15m or rollup_every_dim_15m instead
// (server/usage/rollups/rollup-levels.ts), so a 15-minute pair level, 70 % of the family's rows and most
// of its rollup cost, would serve only them. Written in the same rollup transaction from the same
// batch of calls, rebuilt and repriced with the others, kept forever like them. WITHOUT ROWID
// (migration 0010; Drizzle cannot declare it).

/** Key columns of the two-dimension rollups: which two dimensions, which bucket, which two values. */
const twoDimsKeyColumns = () => ({
  pair: text("pair").notNull(),
  bucketStart: integer("bucket_start").notNull(),
  a: text("a").notNull(),
  b: text("b").notNull(),
});

/** rollup_every_dim_15m summed per pair of dimensions, per whole UTC hour (bucket_start = the hour). */
export const rollupTwoDimsHour = sqliteTable("rollup_two_dims_hour", { ...twoDimsKeyColumns(), ...measureColumns() }, (t) => [
  // Upsert key; /api/usage range-scans one pair by bucket_start.
  primaryKey({ columns: [t.pair, t.bucketStart, t.a, t.b] }),
]);

/** rollup_two_dims_hour summed over whole UTC days. */
export const rollupTwoDimsDay = sqliteTable("rollup_two_dims_day", { ...twoDimsKeyColumns(), ...measureColumns() }, (t) => [
  primaryKey({ columns: [t.pair, t.bucketStart, t.a, t.b] }),
]);

/** Named counters, e.g. the rollup watermark (highest call id already in rollup_every_dim_15m). */
export const jobState = sqliteTable("job_state", {
  name: text("name").primaryKey(),
  value: integer("value").notNull(),
});

/**
 * Names an admin gave to key fingerprints ("search-prod" for fe303d1c9a2b..Lm4R), shown wherever
 * keys appear. Kept apart from calls: a key's calls and rollups keep only its fingerprint.
 */
export const keyNames = sqliteTable("key_names", {
  keyId: text("key_id").primaryKey(),
  name: text("name").notNull(),
  updatedAt: integer("updated_at").notNull(),
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
    // The Jobs page's latest run of each job: a seek per job, however many rollup runs pile up.
    index("job_runs_job_idx").on(t.job, t.id),
  ],
);

/**
 * Dashboard login sessions. The id is the cookie value (32 random bytes, base64url); the CSRF
 * token rides in every form and htmx request of that session. Logout deletes the row, so an old
 * cookie stops working at once.
 */
export const sessions = sqliteTable(
  "sessions",
  {
    id: text("id").primaryKey(),
    csrfToken: text("csrf_token").notNull(),
    createdAt: integer("created_at").notNull(),
    expiresAt: integer("expires_at").notNull(),
  },
  (t) => [
    // Purge of expired sessions at login.
    index("sessions_expires_idx").on(t.expiresAt),
  ],
);

/**
 * The brake on POST /login (server/sessions/login-throttle.ts), in the database so that every
 * instance behind a load balancer counts the same attempts: one row per client address with its
 * attempts, lockouts and lockout end, and one row with the empty address for the attempts judged
 * in the current second across all addresses (attempts; `last` is that second's start).
 */
export const loginThrottle = sqliteTable(
  "login_throttle",
  {
    address: text("address").primaryKey(),
    attempts: integer("attempts").notNull(),
    lockouts: integer("lockouts").notNull(),
    lockedUntil: integer("locked_until").notNull(),
    // Last attempt or end of the last lockout, whichever is later.
    last: integer("last").notNull(),
  },
  (t) => [
    // Purge of addresses quiet for longer than the throttle remembers.
    index("login_throttle_last_idx").on(t.last),
  ],
);

/** Scheduled report emails: what to send, to whom, when, in which zone. */
export const reportSchedules = sqliteTable(
  "report_schedules",
  {
    id: integer("id").primaryKey({ autoIncrement: true }),
    name: text("name").notNull(),
    kind: text("kind", { enum: ["spend", "failures"] }).notNull(),
    period: text("period", { enum: ["daily", "weekly", "monthly"] }).notNull(),
    // Local wall-clock "HH:MM" in `timezone`, on the first day after the period.
    sendAt: text("send_at").notNull(),
    timezone: text("timezone").notNull(),
    // JSON array of addresses, JSON {team?, project?, model?} (null = everything).
    recipients: text("recipients").notNull(),
    filter: text("filter"),
    enabled: integer("enabled", { mode: "boolean" }).notNull().default(true),
    // Catch-up never reaches before this instant: set at creation and whenever the timing changes
    // or the schedule is re-enabled, so switching one on does not mail out every missed period.
    activeFrom: integer("active_from").notNull(),
    createdAt: integer("created_at").notNull(),
    updatedAt: integer("updated_at").notNull(),
  },
  (t) => [
    // The reports tick reads the enabled schedules every minute.
    index("report_schedules_enabled_idx").on(t.enabled),
  ],
);

/**
 * One row per report email (or attempt at one). A scheduled row is claimed (inserted) before
 * anything is rendered or sent, and (schedule_id, period_start) is unique among scheduled rows,
 * so a restart, a second process or an overlapping tick can never send a period twice
 * (LiteLLM #3597). Manual sends (POST /api/reports/:id/send) are extra rows outside that key.
 */
export const reportDeliveries = sqliteTable(
  "report_deliveries",
  {
    id: integer("id").primaryKey({ autoIncrement: true }),
    scheduleId: integer("schedule_id")
      .notNull()
      .references(() => reportSchedules.id, { onDelete: "cascade" }),
    trigger: text("trigger", { enum: ["schedule", "manual"] }).notNull(),
    periodStart: integer("period_start").notNull(),
    periodEnd: integer("period_end").notNull(),
    // claimed: a runner owns it until next_attempt_at (its lease); failed: retried at
    // next_attempt_at (null = gave up); skipped: beyond the bounded catch-up window.
    status: text("status", { enum: ["claimed", "sent", "failed", "not_sent", "skipped"] }).notNull(),
    attempts: integer("attempts").notNull().default(0),
    nextAttemptAt: integer("next_attempt_at"),
    lastError: text("last_error"),
    sentAt: integer("sent_at"),
    // The rendered email, kept for /reports, for resend and for "not sent: no SMTP configured".
    subject: text("subject"),
    html: text("html"),
    text: text("text"),
    csv: text("csv"),
    createdAt: integer("created_at").notNull(),
  },
  (t) => [
    // The exactly-once claim key: INSERT … ON CONFLICT DO NOTHING on it decides who sends.
    uniqueIndex("report_deliveries_period_uq")
      .on(t.scheduleId, t.periodStart)
      .where(sql`"trigger" = 'schedule'`),
    // The retry scan: failed rows due again and claims whose runner died (expired lease).
    index("report_deliveries_due_idx")
      .on(t.nextAttemptAt)
      .where(sql`status IN ('claimed', 'failed')`),
    // GET /api/reports/:id/deliveries and /reports: a schedule's latest deliveries first.
    index("report_deliveries_schedule_idx").on(t.scheduleId, t.id),
  ],
);

export type Call = typeof calls.$inferSelect;
export type NewCall = typeof calls.$inferInsert;
export type Price = typeof prices.$inferSelect;
export type JobRun = typeof jobRuns.$inferSelect;
export type Session = typeof sessions.$inferSelect;
export type ReportSchedule = typeof reportSchedules.$inferSelect;
export type ReportDelivery = typeof reportDeliveries.$inferSelect;

/**
 * Keys tollbooth issues to teams (spend control), apart from the fingerprints of callers' own
 * keys in calls.key_id. A call made with one records this row's id as its key_id, and the key's
 * team and project as its attribution. The secret itself is never stored (tollbooth_key_secrets).
 */
export const tollboothKeys = sqliteTable("tollbooth_keys", {
  // "key_" + 16 base62 characters: stable across rotations, the target of a key budget.
  id: text("id").primaryKey(),
  name: text("name").notNull(),
  team: text("team"),
  project: text("project"),
  // JSON array of model names the key may call; null = any model.
  models: text("models"),
  rpm: integer("rpm"),
  tpm: integer("tpm"),
  expiresAt: integer("expires_at"),
  revokedAt: integer("revoked_at"),
  lastUsedAt: integer("last_used_at"),
  createdAt: integer("created_at").notNull(),
});

/**
 * The secrets of a key, as SHA-256 hashes (keys are 32 random bytes: no slow hash needed). A key
 * has one current secret; rotating adds a new one and gives the old one an expiry (the grace
 * period) instead of deleting it.
 */
export const tollboothKeySecrets = sqliteTable(
  "tollbooth_key_secrets",
  {
    hash: text("hash").primaryKey(),
    keyId: text("key_id")
      .notNull()
      .references(() => tollboothKeys.id, { onDelete: "cascade" }),
    // "tb_" + the first 8 characters after it: what lists show.
    prefix: text("prefix").notNull(),
    // null: valid until the key is revoked or expires; set when a rotation retires it.
    retiresAt: integer("retires_at"),
    createdAt: integer("created_at").notNull(),
  },
  (t) => [index("tollbooth_key_secrets_key_idx").on(t.keyId)],
);

/** Spend budgets of a key, team or project over a calendar period in an IANA zone. */
export const budgets = sqliteTable("budgets", {
  id: integer("id").primaryKey({ autoIncrement: true }),
  scope: text("scope", { enum: ["key", "team", "project"] }).notNull(),
  target: text("target").notNull(),
  amountNano: integer("amount_nano").notNull(),
  period: text("period", { enum: ["daily", "weekly", "monthly"] }).notNull(),
  timezone: text("timezone").notNull(),
  // JSON array of percentages, e.g. [50,80,95].
  softThresholds: text("soft_thresholds").notNull(),
  hard: integer("hard", { mode: "boolean" }).notNull().default(false),
  createdAt: integer("created_at").notNull(),
  updatedAt: integer("updated_at").notNull(),
});

/**
 * Room of a hard budget held by one tollbooth process for the current period: the process may
 * spend it without asking the database per call. `held_nano` is room granted minus what the
 * process has spent out of it and knows to be committed in calls (which count through calls
 * then). A lease whose heartbeat is older than the expiry no longer counts (its process died).
 */
export const budgetLeases = sqliteTable(
  "budget_leases",
  {
    budgetId: integer("budget_id")
      .notNull()
      .references(() => budgets.id, { onDelete: "cascade" }),
    instance: text("instance").notNull(),
    periodStart: integer("period_start").notNull(),
    heldNano: integer("held_nano").notNull(),
    heartbeatAt: integer("heartbeat_at").notNull(),
  },
  (t) => [primaryKey({ columns: [t.budgetId, t.instance, t.periodStart] })],
);

export type TollboothKey = typeof tollboothKeys.$inferSelect;
export type Budget = typeof budgets.$inferSelect;

/** The conditions alerts watch; see server/alerts/conditions.ts for how each is read. */
export const ALERT_KINDS = ["budget_threshold", "budget_projection", "error_rate", "latency_p95", "spend_anomaly"] as const;

/** Alert rules: a condition, and who is told when it starts and stops holding. */
export const alertRules = sqliteTable("alert_rules", {
  id: integer("id").primaryKey({ autoIncrement: true }),
  kind: text("kind", { enum: ALERT_KINDS }).notNull(),
  // The watched budget of budget_* rules; null: every budget.
  budgetId: integer("budget_id").references(() => budgets.id, { onDelete: "cascade" }),
  // Integer, in the kind's unit: error_rate basis points (5 % = 500), latency_p95 ms,
  // spend_anomaly hundredths of the factor (3× = 300), budget_projection basis points of the
  // budget (100 % = 10000). null for budget_threshold (the budget's own soft thresholds).
  threshold: integer("threshold"),
  // The trailing window of error_rate and latency_p95, in minutes.
  windowMinutes: integer("window_minutes"),
  // A disabled rule is not evaluated: it neither fires nor resolves until enabled again.
  enabled: integer("enabled", { mode: "boolean" }).notNull().default(true),
  // JSON array of channels: {type:"email",to:[…]} | {type:"webhook",url,secret,format}.
  channels: text("channels").notNull(),
  createdAt: integer("created_at").notNull(),
});

/**
 * One row per transition of a rule's subject (a budget and threshold, a budget, or "all"):
 * seq 1 fired, 2 resolved, 3 fired again, … (odd seq fires, even seq resolves). (rule, subject,
 * seq) is unique and the row is inserted before anything is sent, so of two processes (or a run
 * before and after a restart) that see the same change only one inserts it, and only that one
 * sends it: each crossing fires once and resolves once. The row then carries the delivery.
 */
export const alertEvents = sqliteTable(
  "alert_events",
  {
    id: integer("id").primaryKey({ autoIncrement: true }),
    ruleId: integer("rule_id")
      .notNull()
      .references(() => alertRules.id, { onDelete: "cascade" }),
    subject: text("subject").notNull(),
    seq: integer("seq").notNull(),
    transition: text("transition", { enum: ["fired", "resolved"] }).notNull(),
    // The observed figure against the limit, as shown ("$2.50 of $10.00", "12.5 % > 5 %").
    value: text("value").notNull(),
    // The message, written when the transition is claimed: a retry sends the same words.
    title: text("title").notNull(),
    body: text("body").notNull(),
    // The JSON webhook body.
    payload: text("payload").notNull(),
    // pending: to send (at next_attempt_at); sent; failed: gave up after the last attempt.
    status: text("status", { enum: ["pending", "sent", "failed"] }).notNull(),
    attempts: integer("attempts").notNull().default(0),
    nextAttemptAt: integer("next_attempt_at"),
    lastError: text("last_error"),
    // JSON array of the indexes of the rule's channels that have it: a retry after one channel
    // failed sends only to the channels still missing it.
    sentChannels: text("sent_channels").notNull().default("[]"),
    createdAt: integer("created_at").notNull(),
    sentAt: integer("sent_at"),
  },
  (t) => [
    uniqueIndex("alert_events_transition_uq").on(t.ruleId, t.subject, t.seq),
    index("alert_events_due_idx").on(t.nextAttemptAt).where(sql`status = 'pending'`),
    // The /alerts history, newest first across rules.
    index("alert_events_created_idx").on(t.createdAt),
  ],
);

export type AlertRule = typeof alertRules.$inferSelect;
export type AlertEvent = typeof alertEvents.$inferSelect;
