import { sql } from "drizzle-orm";
import { bigint, bigserial, boolean, index, integer, pgTable, primaryKey, text, uniqueIndex } from "drizzle-orm/pg-core";

// The PostgreSQL twin of schema.ts: the same tables, columns, defaults and indexes (a test,
// test/db/schema-parity.test.ts, fails when the two drift apart), in PostgreSQL's types:
//
// - SQLite's INTEGER is 64-bit; PostgreSQL's integer is 32-bit. Epoch milliseconds, money
//   (nano-USD, and micro-USD per 1M tokens) and every rollup sum are bigint: one call costing
//   $2.15 is already past 2^31 nano-USD. Only per-call figures that stay far below 2^31 (HTTP
//   status, token counts of one call, milliseconds of one call, delivery attempts) are integer.
// - bigint is read as a JS number (mode "number"), as SQLite's integers are read today. That is
//   exact below 2^53: 9.0e15 nano-USD is $9M in one rollup row, and epoch ms reach 2^53 in the
//   year 287,396. The pool (server/db/postgres.ts) parses int8 and numeric results of raw SQL
//   (SUM over bigint is numeric) with a parser that throws instead of rounding past 2^53.
// - Booleans are boolean; autoincrement ids are bigserial (a sequence default, which partitions
//   created with LIKE … INCLUDING DEFAULTS share).
//
// Differences that exist only on PostgreSQL, each for the reason given where it is declared:
// calls is partitioned by month of created_at (hand-written in migrations-pg, Drizzle cannot
// declare partitioning), so its primary key and unique index include created_at and call_bodies
// cannot reference it; calls.commit_xid orders rows by commit for the rollup watermark.

/** Epoch ms, money and sums: 64-bit, read as a JS number (exact below 2^53, see above). */
const int64 = (name: string) => bigint(name, { mode: "number" });

/** One row per call that reached the proxy, successful or not. */
export const calls = pgTable(
  "calls",
  {
    id: bigserial("id", { mode: "number" }).notNull(),
    requestId: text("request_id").notNull(),
    createdAt: int64("created_at").notNull(),
    model: text("model"),
    endpoint: text("endpoint").notNull(),
    stream: boolean("stream").notNull().default(false),
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
    costNano: int64("cost_nano"),
    // The 64-bit id of the transaction that inserted the row (PostgreSQL only). With several
    // writers, ids are handed out before commit, so a lower id can become visible after a higher
    // one; transaction ids compared with a snapshot's xmin tell which rows are committed for good
    // (see "Rollups with many writers" in docs/architecture.md). Set by the default, never by us.
    commitXid: int64("commit_xid")
      .notNull()
      .default(sql`(pg_current_xact_id()::text::bigint)`),
  },
  (t) => [
    // A partitioned table's primary key and unique indexes must include the partition key.
    primaryKey({ columns: [t.id, t.createdAt] }),
    // A retried or replayed batch carries the call's own created_at (it is journaled with the
    // row), so (request_id, created_at) rejects a second write of a call as request_id alone does.
    uniqueIndex("calls_request_id_uq").on(t.requestId, t.createdAt),
    index("calls_created_idx").on(t.createdAt, t.id),
    index("calls_model_created_idx").on(t.model, t.createdAt, t.id),
    index("calls_team_created_idx").on(t.team, t.createdAt, t.id),
    index("calls_key_created_idx").on(t.keyId, t.createdAt, t.id),
    // Without SQLite's message column (schema.ts): a B-tree entry holds at most ~2.7 kB and a
    // message may be 4 kB, and pg_trgm already serves a search here.
    index("calls_failed_created_idx")
      .on(t.createdAt, t.id)
      .where(sql`status >= 400 OR error_type IS NOT NULL`),
    index("calls_failed_model_created_idx")
      .on(t.model, t.createdAt, t.id)
      .where(sql`status >= 400 OR error_type IS NOT NULL`),
    index("calls_failed_team_created_idx")
      .on(t.team, t.createdAt, t.id)
      .where(sql`status >= 400 OR error_type IS NOT NULL`),
    // The rollup's and the fresh tail's range: rows inserted by transactions past the watermark.
    index("calls_commit_xid_idx").on(t.commitXid),
    // Text search over error messages (the explorer's `q`): pg_trgm's trigrams serve ILIKE
    // '%text%' from this index, as SQLite's FTS5 trigram table calls_error_fts does there. Only
    // calls with a message (the failed ones) are indexed; PostgreSQL keeps it up to date itself,
    // so the recorder writes nothing for it. The migration creates the pg_trgm extension first.
    index("calls_error_message_trgm_idx")
      .using("gin", t.errorMessage.op("gin_trgm_ops"))
      .where(sql`error_message IS NOT NULL`),
  ],
);

/**
 * Request/response bodies (see schema.ts). No foreign key on PostgreSQL: one to a partitioned
 * table must name its whole primary key (id, created_at). Retention deletes bodies itself.
 */
export const callBodies = pgTable("call_bodies", {
  callId: int64("call_id").primaryKey(),
  requestBody: text("request_body"),
  responseBody: text("response_body"),
  truncated: boolean("truncated").notNull().default(false),
});

export const prices = pgTable(
  "prices",
  {
    id: bigserial("id", { mode: "number" }).primaryKey(),
    model: text("model").notNull(),
    inputMicroPerMtok: int64("input_micro_per_mtok").notNull(),
    outputMicroPerMtok: int64("output_micro_per_mtok").notNull(),
    currency: text("currency").notNull().default("USD"),
    effectiveFrom: int64("effective_from").notNull(),
    source: text("source", { enum: ["seed", "sync", "admin"] }).notNull(),
    createdAt: int64("created_at").notNull(),
  },
  (t) => [index("prices_model_from_idx").on(t.model, t.effectiveFrom)],
);

const everyDimKeyColumns = () => ({
  bucketStart: int64("bucket_start").notNull(),
  model: text("model").notNull().default(""),
  keyId: text("key_id").notNull().default(""),
  team: text("team").notNull().default(""),
  project: text("project").notNull().default(""),
  user: text("user").notNull().default(""),
  statusClass: text("status_class").notNull(),
});

const oneDimKeyColumns = () => ({
  dim: text("dim", { enum: ["model", "key_id", "team", "project", "user", "status_class"] }).notNull(),
  bucketStart: int64("bucket_start").notNull(),
  value: text("value").notNull(),
});

const measureColumns = () => ({
  requests: int64("requests").notNull().default(0),
  errors: int64("errors").notNull().default(0),
  promptTokens: int64("prompt_tokens").notNull().default(0),
  completionTokens: int64("completion_tokens").notNull().default(0),
  costNano: int64("cost_nano").notNull().default(0),
  unpricedRequests: int64("unpriced_requests").notNull().default(0),
  durationMsSum: int64("duration_ms_sum").notNull().default(0),
});

const noKeyUserKeyColumns = () => ({
  bucketStart: int64("bucket_start").notNull(),
  model: text("model").notNull().default(""),
  team: text("team").notNull().default(""),
  project: text("project").notNull().default(""),
  statusClass: text("status_class").notNull(),
});

const twoDimsKeyColumns = () => ({
  pair: text("pair").notNull(),
  bucketStart: int64("bucket_start").notNull(),
  a: text("a").notNull(),
  b: text("b").notNull(),
});

export const rollupEveryDim15m = pgTable("rollup_every_dim_15m", { ...everyDimKeyColumns(), ...measureColumns() }, (t) => [
  uniqueIndex("usage_buckets_key_uq").on(t.bucketStart, t.model, t.keyId, t.team, t.project, t.user, t.statusClass),
]);

export const rollupOneDim15m = pgTable("rollup_one_dim_15m", { ...oneDimKeyColumns(), ...measureColumns() }, (t) => [
  uniqueIndex("usage_dim_buckets_key_uq").on(t.dim, t.bucketStart, t.value),
]);

export const rollupEveryDimHour = pgTable("rollup_every_dim_hour", { ...everyDimKeyColumns(), ...measureColumns() }, (t) => [
  primaryKey({ name: "rollup_every_dim_hour_pk", columns: [t.bucketStart, t.model, t.keyId, t.team, t.project, t.user, t.statusClass] }),
]);

export const rollupOneDimHour = pgTable("rollup_one_dim_hour", { ...oneDimKeyColumns(), ...measureColumns() }, (t) => [
  primaryKey({ name: "rollup_one_dim_hour_pk", columns: [t.dim, t.bucketStart, t.value] }),
]);

export const rollupEveryDimDay = pgTable("rollup_every_dim_day", { ...everyDimKeyColumns(), ...measureColumns() }, (t) => [
  primaryKey({ name: "rollup_every_dim_day_pk", columns: [t.bucketStart, t.model, t.keyId, t.team, t.project, t.user, t.statusClass] }),
]);

export const rollupOneDimDay = pgTable("rollup_one_dim_day", { ...oneDimKeyColumns(), ...measureColumns() }, (t) => [
  primaryKey({ name: "rollup_one_dim_day_pk", columns: [t.dim, t.bucketStart, t.value] }),
]);

export const rollupNoKeyUser15m = pgTable("rollup_no_key_user_15m", { ...noKeyUserKeyColumns(), ...measureColumns() }, (t) => [
  primaryKey({ name: "rollup_no_key_user_15m_pk", columns: [t.bucketStart, t.model, t.team, t.project, t.statusClass] }),
]);

export const rollupNoKeyUserHour = pgTable("rollup_no_key_user_hour", { ...noKeyUserKeyColumns(), ...measureColumns() }, (t) => [
  primaryKey({ name: "rollup_no_key_user_hour_pk", columns: [t.bucketStart, t.model, t.team, t.project, t.statusClass] }),
]);

export const rollupNoKeyUserDay = pgTable("rollup_no_key_user_day", { ...noKeyUserKeyColumns(), ...measureColumns() }, (t) => [
  primaryKey({ name: "rollup_no_key_user_day_pk", columns: [t.bucketStart, t.model, t.team, t.project, t.statusClass] }),
]);

export const rollupTwoDimsHour = pgTable("rollup_two_dims_hour", { ...twoDimsKeyColumns(), ...measureColumns() }, (t) => [
  primaryKey({ name: "rollup_two_dims_hour_pk", columns: [t.pair, t.bucketStart, t.a, t.b] }),
]);

export const rollupTwoDimsDay = pgTable("rollup_two_dims_day", { ...twoDimsKeyColumns(), ...measureColumns() }, (t) => [
  primaryKey({ name: "rollup_two_dims_day_pk", columns: [t.pair, t.bucketStart, t.a, t.b] }),
]);

export const jobState = pgTable("job_state", {
  name: text("name").primaryKey(),
  value: int64("value").notNull(),
});

export const jobRuns = pgTable(
  "job_runs",
  {
    id: bigserial("id", { mode: "number" }).primaryKey(),
    job: text("job").notNull(),
    startedAt: int64("started_at").notNull(),
    finishedAt: int64("finished_at"),
    rows: int64("rows"),
    error: text("error"),
  },
  (t) => [index("job_runs_started_idx").on(t.startedAt), index("job_runs_job_idx").on(t.job, t.id)],
);

/** Names an admin gave to key fingerprints (schema.ts keyNames). */
export const keyNames = pgTable("key_names", {
  keyId: text("key_id").primaryKey(),
  name: text("name").notNull(),
  updatedAt: int64("updated_at").notNull(),
});

export const sessions = pgTable(
  "sessions",
  {
    id: text("id").primaryKey(),
    csrfToken: text("csrf_token").notNull(),
    createdAt: int64("created_at").notNull(),
    expiresAt: int64("expires_at").notNull(),
  },
  (t) => [index("sessions_expires_idx").on(t.expiresAt)],
);

/**
 * The brake on POST /login (server/sessions/login-throttle.ts), in the database so that every
 * instance behind a load balancer counts the same attempts: one row per client address with its
 * attempts, lockouts and lockout end, and one row with the empty address for the attempts judged
 * in the current second across all addresses (attempts; `last` is that second's start).
 */
export const loginThrottle = pgTable(
  "login_throttle",
  {
    address: text("address").primaryKey(),
    attempts: int64("attempts").notNull(),
    lockouts: int64("lockouts").notNull(),
    lockedUntil: int64("locked_until").notNull(),
    last: int64("last").notNull(),
  },
  (t) => [index("login_throttle_last_idx").on(t.last)],
);

export const reportSchedules = pgTable(
  "report_schedules",
  {
    id: bigserial("id", { mode: "number" }).primaryKey(),
    name: text("name").notNull(),
    kind: text("kind", { enum: ["spend", "failures"] }).notNull(),
    period: text("period", { enum: ["daily", "weekly", "monthly"] }).notNull(),
    sendAt: text("send_at").notNull(),
    timezone: text("timezone").notNull(),
    recipients: text("recipients").notNull(),
    filter: text("filter"),
    enabled: boolean("enabled").notNull().default(true),
    activeFrom: int64("active_from").notNull(),
    createdAt: int64("created_at").notNull(),
    updatedAt: int64("updated_at").notNull(),
  },
  (t) => [index("report_schedules_enabled_idx").on(t.enabled)],
);

export const reportDeliveries = pgTable(
  "report_deliveries",
  {
    id: bigserial("id", { mode: "number" }).primaryKey(),
    scheduleId: int64("schedule_id")
      .notNull()
      .references(() => reportSchedules.id, { onDelete: "cascade" }),
    trigger: text("trigger", { enum: ["schedule", "manual"] }).notNull(),
    periodStart: int64("period_start").notNull(),
    periodEnd: int64("period_end").notNull(),
    status: text("status", { enum: ["claimed", "sent", "failed", "not_sent", "skipped"] }).notNull(),
    attempts: integer("attempts").notNull().default(0),
    nextAttemptAt: int64("next_attempt_at"),
    lastError: text("last_error"),
    sentAt: int64("sent_at"),
    subject: text("subject"),
    html: text("html"),
    text: text("text"),
    csv: text("csv"),
    createdAt: int64("created_at").notNull(),
  },
  (t) => [
    uniqueIndex("report_deliveries_period_uq")
      .on(t.scheduleId, t.periodStart)
      .where(sql`"trigger" = 'schedule'`),
    index("report_deliveries_due_idx")
      .on(t.nextAttemptAt)
      .where(sql`status IN ('claimed', 'failed')`),
    index("report_deliveries_schedule_idx").on(t.scheduleId, t.id),
  ],
);

/** Keys tollbooth issues to teams (schema.ts tollboothKeys). */
export const tollboothKeys = pgTable("tollbooth_keys", {
  id: text("id").primaryKey(),
  name: text("name").notNull(),
  team: text("team"),
  project: text("project"),
  models: text("models"),
  rpm: int64("rpm"),
  tpm: int64("tpm"),
  expiresAt: int64("expires_at"),
  revokedAt: int64("revoked_at"),
  lastUsedAt: int64("last_used_at"),
  createdAt: int64("created_at").notNull(),
});

/** Their secrets as SHA-256 hashes (schema.ts tollboothKeySecrets). */
export const tollboothKeySecrets = pgTable(
  "tollbooth_key_secrets",
  {
    hash: text("hash").primaryKey(),
    keyId: text("key_id")
      .notNull()
      .references(() => tollboothKeys.id, { onDelete: "cascade" }),
    prefix: text("prefix").notNull(),
    retiresAt: int64("retires_at"),
    createdAt: int64("created_at").notNull(),
  },
  (t) => [index("tollbooth_key_secrets_key_idx").on(t.keyId)],
);

/** Spend budgets (schema.ts budgets). */
export const budgets = pgTable("budgets", {
  id: bigserial("id", { mode: "number" }).primaryKey(),
  scope: text("scope", { enum: ["key", "team", "project"] }).notNull(),
  target: text("target").notNull(),
  amountNano: int64("amount_nano").notNull(),
  period: text("period", { enum: ["daily", "weekly", "monthly"] }).notNull(),
  timezone: text("timezone").notNull(),
  softThresholds: text("soft_thresholds").notNull(),
  hard: boolean("hard").notNull().default(false),
  createdAt: int64("created_at").notNull(),
  updatedAt: int64("updated_at").notNull(),
});

/** Room of a hard budget held by one process (schema.ts budgetLeases). */
export const budgetLeases = pgTable(
  "budget_leases",
  {
    budgetId: int64("budget_id")
      .notNull()
      .references(() => budgets.id, { onDelete: "cascade" }),
    instance: text("instance").notNull(),
    periodStart: int64("period_start").notNull(),
    heldNano: int64("held_nano").notNull(),
    heartbeatAt: int64("heartbeat_at").notNull(),
  },
  (t) => [primaryKey({ columns: [t.budgetId, t.instance, t.periodStart] })],
);

/** Alert rules (schema.ts alertRules). */
export const alertRules = pgTable("alert_rules", {
  id: bigserial("id", { mode: "number" }).primaryKey(),
  kind: text("kind", { enum: ["budget_threshold", "budget_projection", "error_rate", "latency_p95", "spend_anomaly"] }).notNull(),
  budgetId: int64("budget_id").references(() => budgets.id, { onDelete: "cascade" }),
  threshold: int64("threshold"),
  windowMinutes: int64("window_minutes"),
  enabled: boolean("enabled").notNull().default(true),
  channels: text("channels").notNull(),
  createdAt: int64("created_at").notNull(),
});

/** One row per transition of an alert's subject, claimed before it is sent (schema.ts alertEvents). */
export const alertEvents = pgTable(
  "alert_events",
  {
    id: bigserial("id", { mode: "number" }).primaryKey(),
    ruleId: int64("rule_id")
      .notNull()
      .references(() => alertRules.id, { onDelete: "cascade" }),
    subject: text("subject").notNull(),
    seq: int64("seq").notNull(),
    transition: text("transition", { enum: ["fired", "resolved"] }).notNull(),
    value: text("value").notNull(),
    title: text("title").notNull(),
    body: text("body").notNull(),
    payload: text("payload").notNull(),
    status: text("status", { enum: ["pending", "sent", "failed"] }).notNull(),
    attempts: int64("attempts").notNull().default(0),
    nextAttemptAt: int64("next_attempt_at"),
    lastError: text("last_error"),
    sentChannels: text("sent_channels").notNull().default("[]"),
    createdAt: int64("created_at").notNull(),
    sentAt: int64("sent_at"),
  },
  (t) => [
    uniqueIndex("alert_events_transition_uq").on(t.ruleId, t.subject, t.seq),
    index("alert_events_due_idx")
      .on(t.nextAttemptAt)
      .where(sql`status = 'pending'`),
    index("alert_events_created_idx").on(t.createdAt),
  ],
);
