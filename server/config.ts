import { isIP } from "node:net";
import cron from "node-cron";
import { z } from "zod";
import { isValidTimeZone } from "./time.ts";

// The one place that turns process.env into typed settings. A bad value stops start-up with one
// line naming the variable (see formatConfigError), never a stack trace.
const intFrom = (def: number, min = 0) => z.coerce.number().int().min(min).default(def);
// Checked here, not when the scheduler starts (after the database is open, as a stack trace).
const cronExpression = (def: string) =>
  z
    .string()
    .refine((e) => cron.validate(e), 'must be a cron expression: 5 fields, or 6 with seconds first (e.g. "17 3 * * *")')
    .default(def);
// An address that looks numeric must be a real IP (999.1.1.1 would otherwise go to DNS and fail
// at listen time); anything else must be a host name.
const hostSchema = z
  .string()
  .min(1)
  .refine((h) => (/^[\d.]+$/.test(h) || h.includes(":") ? isIP(h) !== 0 : /^[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?$/.test(h)), "must be an IP address or a host name (e.g. 127.0.0.1, 0.0.0.0, ::1, localhost)");

export const configSchema = z.object({
  PORT: z.coerce.number().int().min(0).max(65535).default(8787),
  HOST: hostSchema.default("127.0.0.1"),
  DATABASE_URL: z.string().min(1).default("./data/tollbooth.db"),
  DATA_DIR: z.string().min(1).optional(),
  // PostgreSQL only: the most connections one process holds, so N instances stay within the
  // server's max_connections (N × PG_POOL_MAX) and a burst of slow queries waits for a connection
  // instead of opening ever more.
  PG_POOL_MAX: intFrom(10, 1),
  UPSTREAM_BASE_URL: z.url({ protocol: /^https?$/ }).default("https://inference.api.nscale.com/v1"),
  UPSTREAM_API_KEY: z.string().min(1).optional(),
  // passthrough: callers send their own Nscale key (forwarded as is); keys: only tollbooth keys
  // (tb_…), forwarded with UPSTREAM_API_KEY; both: a tb_ credential is a tollbooth key, any other
  // is passed through.
  AUTH_MODE: z.enum(["passthrough", "keys", "both"]).default("passthrough"),
  // Output tokens reserved against a hard budget for a call that sets no max_tokens.
  BUDGET_OUTPUT_CAP_TOKENS: intFrom(8_192, 1),
  UPSTREAM_TIMEOUT_MS: intFrom(120_000, 1),
  UPSTREAM_MAX_CONNECTIONS: intFrom(256, 1),
  // How long a client may take to send the request headers / the whole request (slow clients).
  HEADERS_TIMEOUT_MS: intFrom(10_000, 1),
  REQUEST_TIMEOUT_MS: intFrom(60_000, 1),
  // The characters a Bearer credential may hold (RFC 6750's b64token), which hono/bearer-auth
  // enforces: a token outside them could never be sent, so it stops start-up instead.
  ADMIN_TOKEN: z
    .string()
    .min(16, "must be at least 16 characters")
    .regex(/^[A-Za-z0-9._~+/-]+=*$/, "may hold only letters, digits and . _ ~ + / - (then = padding)")
    .optional(),
  LOG_BODIES: z.enum(["errors", "all", "none"]).default("errors"),
  BODY_CAP_BYTES: intFrom(64 * 1024, 1024),
  MAX_BODY_BYTES: intFrom(8 * 1024 * 1024, 1024),
  SHUTDOWN_GRACE_MS: intFrom(10_000),
  // How long the listener stays open after SIGTERM answering 503, so connections already queued
  // get an answer instead of a reset (server/draining.ts).
  SHUTDOWN_DRAIN_MS: intFrom(1_000),
  RECORDER_BATCH_SIZE: intFrom(500, 1),
  RECORDER_FLUSH_MS: intFrom(50, 1),
  // Rows the writer holds in memory while the database does not take them; later rows wait in
  // the journal only and are read back from it (server/recorder/spill-backlog.ts).
  RECORDER_MEMORY_MAX_ROWS: intFrom(10_000, 1),
  // Threads serving the dashboard and /api (each with its own SQLite connection), so one slow
  // page does not queue every other one. /v1 never waits on them.
  READER_THREADS: intFrom(2, 1),
  // Where each call's row is journaled before its response completes (default: DATA_DIR/journal).
  JOURNAL_DIR: z.string().min(1).optional(),
  // fdatasync each journaled row: survives power loss, costs a disk flush per call.
  // Journal segments are preallocated to this size, so a disk that fills up still takes rows.
  JOURNAL_SEGMENT_BYTES: intFrom(4 * 1024 * 1024, 64 * 1024),
  JOURNAL_FSYNC: z.enum(["true", "false"]).default("false").transform((v) => v === "true"),
  // false: this process runs no cron jobs (several proxy processes on one database, with jobs
  // run by one of them or by `npm run job`); tests use it so no job fires behind their back.
  CRON_ENABLED: z.enum(["true", "false"]).default("true").transform((v) => v === "true"),
  // Every 10 seconds (node-cron's optional seconds field): calls not rolled up yet are summed
  // from raw rows on every usage query, so the fewer the cheaper; an idle tick writes nothing.
  ROLLUP_CRON: cronExpression("*/10 * * * * *"),
  PRICES_SYNC_CRON: cronExpression("17 3 * * *"),
  RETENTION_CRON: cronExpression("42 3 * * *"),
  // Every minute: a tick only claims what is due, so a report goes out within a minute of its time.
  REPORTS_CRON: cronExpression("* * * * *"),
  // Alert rules are checked, and due alerts sent, every 30 s.
  ALERTS_CRON: cronExpression("*/30 * * * * *"),
  RETENTION_BODIES_DAYS: intFrom(30, 1),
  RETENTION_CALLS_DAYS: intFrom(400, 1),
  REPORT_TZ: z.string().default("UTC"),
  SMTP_URL: z.url({ protocol: /^smtps?$/, error: "must be an smtp:// or smtps:// URL, e.g. smtp://user:pass@host:587" }).optional(),
  REPORT_FROM: z.string().default("tollbooth@localhost"),
  PUBLIC_URL: z.url({ protocol: /^https?$/, error: "must be an http:// or https:// URL" }).optional(),
  LOG_LEVEL: z.enum(["debug", "info", "warn", "error", "silent"]).default("info"),
  // GET /metrics (Prometheus) and the per-call counters behind it; false: neither exists.
  METRICS_ENABLED: z.enum(["true", "false"]).default("true").transform((v) => v === "true"),
  // A second bearer token that opens /metrics only, so a scraper never holds the admin token.
  METRICS_TOKEN: z
    .string()
    .min(16, "must be at least 16 characters")
    .regex(/^[A-Za-z0-9._~+/-]+=*$/, "may hold only letters, digits and . _ ~ + / - (then = padding)")
    .optional(),
  // Distinct values a label (model, team, error type) takes before the rest are counted as
  // "(other)": model and team come from callers, so they must not be able to grow the series.
  METRICS_MAX_LABEL_VALUES: intFrom(100, 1),
  // OpenTelemetry: unset, the SDK is never loaded. The standard variables, read here so that a
  // test or an embedding can pass them like any other setting.
  OTEL_EXPORTER_OTLP_ENDPOINT: z.url({ protocol: /^https?$/ }).optional(),
  OTEL_EXPORTER_OTLP_PROTOCOL: z.enum(["http/protobuf", "http/json"]).default("http/protobuf"),
  OTEL_SERVICE_NAME: z.string().min(1).default("tollbooth"),
  // How often the GenAI client metrics are exported (the SDK's own variable and default).
  OTEL_METRIC_EXPORT_INTERVAL: intFrom(60_000, 100),
  // Prompts and completions go into spans only when this is true (they may hold personal data).
  OTEL_CAPTURE_CONTENT: z.enum(["true", "false"]).default("false").transform((v) => v === "true"),
});

export type Config = Readonly<z.infer<typeof configSchema>>;

export class ConfigError extends Error {}

/** Parse an env-like record; throws ConfigError with one readable line. */
export function loadConfig(env: Record<string, string | undefined>): Config {
  // Empty strings mean "unset" (docker-compose and shells often export VAR=).
  const cleaned = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== ""));
  const parsed = configSchema.safeParse(cleaned);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new ConfigError(`invalid config: ${issue.path.join(".")}: ${issue.message}`);
  }
  if (parsed.data.HEADERS_TIMEOUT_MS > parsed.data.REQUEST_TIMEOUT_MS) {
    throw new ConfigError("invalid config: HEADERS_TIMEOUT_MS: must not be larger than REQUEST_TIMEOUT_MS (the headers are part of the request)");
  }
  if (parsed.data.AUTH_MODE !== "passthrough" && !parsed.data.UPSTREAM_API_KEY) {
    throw new ConfigError(`invalid config: UPSTREAM_API_KEY: required with AUTH_MODE=${parsed.data.AUTH_MODE} (calls made with tollbooth keys are forwarded with it)`);
  }
  if (!isValidTimeZone(parsed.data.REPORT_TZ)) {
    throw new ConfigError(`invalid config: REPORT_TZ: unknown IANA time zone "${parsed.data.REPORT_TZ}"`);
  }
  return Object.freeze(parsed.data);
}

/** For process entry points: the config, or null after printing the one-line reason. */
export function loadConfigOrReport(env: Record<string, string | undefined>): Config | null {
  try {
    return loadConfig(env);
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    console.error(err.message);
    return null;
  }
}
