import { z } from "zod";
import { ALERT_KINDS, type AlertEvent, type AlertRule } from "../db/schema.ts";
import { toIso } from "../time.ts";
import { strictBody } from "../validation.ts";
import { thresholdFromStored, thresholdToStored } from "./thresholds.ts";

// The JSON shapes of /api/alerts (the /alerts page builds the same input from its form).

export type AlertKind = (typeof ALERT_KINDS)[number];

const emailChannel = strictBody({
  type: z.literal("email"),
  to: z.array(z.email("must be an email address")).min(1, "must list at least one address").max(50),
});

const webhookChannel = strictBody({
  type: z.literal("webhook"),
  url: z.url({ protocol: /^https?$/, error: "must be an http(s) URL" }),
  secret: z.string().min(16, "must be at least 16 characters").max(256).meta({ description: "Key of the HMAC-SHA256 signature in x-tollbooth-signature" }),
  format: z.enum(["json", "slack"]).default("json").meta({ description: "json: tollbooth's event; slack: an incoming-webhook {text} body" }),
});

const channelSchema = z.discriminatedUnion("type", [emailChannel, webhookChannel]);
export type Channel = z.infer<typeof channelSchema>;

const BUDGET_KINDS: readonly AlertKind[] = ["budget_threshold", "budget_projection"];
const WINDOW_KINDS: readonly AlertKind[] = ["error_rate", "latency_p95"];

/** The unit of `threshold` per kind, as the API reads it, and its bounds. */
const THRESHOLD_RULES: Record<Exclude<AlertKind, "budget_threshold">, { min: number; max: number; decimals: number; what: string; fallback?: number }> = {
  budget_projection: { min: 1, max: 1000, decimals: 2, what: "percent of the budget the projection must pass", fallback: 100 },
  error_rate: { min: 0.01, max: 100, decimals: 2, what: "percent of calls that failed" },
  latency_p95: { min: 1, max: 600_000, decimals: 0, what: "milliseconds" },
  spend_anomaly: { min: 1.01, max: 1000, decimals: 2, what: "times the usual spend of the hour" },
};

const DEFAULT_WINDOW_MINUTES = 15;

const ruleFields = {
  kind: z.enum(ALERT_KINDS).meta({ description: "What is watched (README: Alerts)" }),
  budget_id: z.number().int().min(1).nullish().meta({ description: "budget_* kinds: the budget watched (default: every budget)" }),
  threshold: z.number().nullish().meta({
    description: "budget_projection: percent of the budget (default 100); error_rate: percent of calls; latency_p95: ms; spend_anomaly: times the usual spend of the hour. Not for budget_threshold.",
  }),
  window_minutes: z.number().int().min(1, "must be at least 1").max(1440, "must be at most 1440 (a day)").nullish().meta({ description: "error_rate and latency_p95: the trailing window (default 15)" }),
  enabled: z.boolean().default(true),
  channels: z.array(channelSchema).min(1, "must list at least one channel").max(10),
};

/** A rule as it is stored (threshold in the kind's integer unit). */
export interface RuleInput {
  kind: AlertKind;
  budgetId: number | null;
  threshold: number | null;
  windowMinutes: number | null;
  enabled: boolean;
  channels: Channel[];
}

/** Cross-field checks: which fields a kind takes, the threshold's range, and the defaults. */
function toRuleInput(b: { kind: AlertKind; budget_id?: number | null; threshold?: number | null; window_minutes?: number | null; enabled: boolean; channels: Channel[] }, ctx: z.RefinementCtx): RuleInput {
  const issue = (path: string, message: string) => ctx.addIssue({ code: "custom", path: [path], message });
  if (b.budget_id != null && !BUDGET_KINDS.includes(b.kind)) issue("budget_id", `only budget_threshold and budget_projection rules watch a budget, not ${b.kind}`);
  if (b.window_minutes != null && !WINDOW_KINDS.includes(b.kind)) issue("window_minutes", `only error_rate and latency_p95 rules have a window, not ${b.kind}`);
  let threshold: number | null = null;
  if (b.kind === "budget_threshold") {
    if (b.threshold != null) issue("threshold", "budget_threshold rules use the budget's soft_thresholds");
  } else {
    const rule = THRESHOLD_RULES[b.kind];
    const given = b.threshold ?? rule.fallback;
    if (given === undefined) issue("threshold", `is required for ${b.kind} (${rule.what})`);
    else if (!Number.isFinite(given) || given < rule.min || given > rule.max) issue("threshold", `must be from ${rule.min} to ${rule.max} (${rule.what})`);
    else if (Math.abs(Math.round(given * 10 ** rule.decimals) - given * 10 ** rule.decimals) > 1e-6) issue("threshold", rule.decimals === 0 ? "must be a whole number" : `must have at most ${rule.decimals} decimals`);
    else threshold = thresholdToStored(b.kind, given);
  }
  return {
    kind: b.kind,
    budgetId: b.budget_id ?? null,
    threshold,
    windowMinutes: WINDOW_KINDS.includes(b.kind) ? (b.window_minutes ?? DEFAULT_WINDOW_MINUTES) : null,
    enabled: b.enabled,
    channels: b.channels,
  };
}

export const newAlertSchema = strictBody(ruleFields).transform(toRuleInput);

/** PATCH: any field but kind; the result is checked as a whole rule (ruleAsBody + patch). */
export const alertPatchSchema = strictBody({
  budget_id: ruleFields.budget_id,
  threshold: ruleFields.threshold,
  window_minutes: ruleFields.window_minutes,
  enabled: z.boolean().optional(),
  channels: ruleFields.channels.optional(),
}).refine((p) => Object.values(p).some((v) => v !== undefined), { message: "give at least one field to change" });

/** A stored rule as a create body, for merging a patch over it (secrets included: never sent out). */
export function ruleAsBody(rule: AlertRule): z.input<typeof newAlertSchema> {
  return {
    kind: rule.kind,
    budget_id: rule.budgetId,
    threshold: rule.threshold === null ? null : thresholdFromStored(rule.kind, rule.threshold),
    window_minutes: rule.windowMinutes,
    enabled: rule.enabled,
    channels: JSON.parse(rule.channels) as Channel[],
  };
}

const channelJson = z.union([
  z.object({ type: z.literal("email"), to: z.array(z.string()) }),
  z.object({ type: z.literal("webhook"), url: z.string(), format: z.enum(["json", "slack"]) }),
]);

export const alertJsonSchema = z.object({
  id: z.number().int(),
  kind: z.enum(ALERT_KINDS),
  budget_id: z.number().int().nullable(),
  threshold: z.number().nullable().meta({ description: "In the kind's unit (see POST)" }),
  window_minutes: z.number().int().nullable(),
  enabled: z.boolean(),
  channels: z.array(channelJson).meta({ description: "Webhook secrets are never shown again" }),
  created_at: z.string(),
});

export const alertEventJsonSchema = z.object({
  id: z.number().int(),
  rule_id: z.number().int(),
  subject: z.string().meta({ description: 'What fired: "budget:<id>:<threshold>", "budget:<id>" or "all"' }),
  transition: z.enum(["fired", "resolved"]),
  value: z.string().meta({ description: "The figure observed against the limit" }),
  title: z.string(),
  status: z.enum(["pending", "sent", "failed"]).meta({ description: "Delivery to the rule's channels" }),
  attempts: z.number().int(),
  last_error: z.string().nullable(),
  created_at: z.string(),
  sent_at: z.string().nullable(),
});

export const testSendJsonSchema = z.object({
  results: z.array(
    z.object({
      channel: z.number().int().meta({ description: "Index in the rule's channels" }),
      type: z.enum(["email", "webhook"]),
      target: z.string(),
      ok: z.boolean(),
      detail: z.string().meta({ description: 'What happened: "answered 204", "accepted by the SMTP server", or the error' }),
    }),
  ),
});

function publicChannels(rule: AlertRule): z.infer<typeof channelJson>[] {
  return (JSON.parse(rule.channels) as Channel[]).map((c) => (c.type === "email" ? { type: c.type, to: c.to } : { type: c.type, url: c.url, format: c.format }));
}

export function alertJson(rule: AlertRule): z.infer<typeof alertJsonSchema> {
  return {
    id: rule.id,
    kind: rule.kind,
    budget_id: rule.budgetId,
    threshold: rule.threshold === null ? null : thresholdFromStored(rule.kind, rule.threshold),
    window_minutes: rule.windowMinutes,
    enabled: rule.enabled,
    channels: publicChannels(rule),
    created_at: toIso(rule.createdAt),
  };
}

export function alertEventJson(e: AlertEvent): z.infer<typeof alertEventJsonSchema> {
  return {
    id: e.id,
    rule_id: e.ruleId,
    subject: e.subject,
    transition: e.transition,
    value: e.value,
    title: e.title,
    status: e.status,
    attempts: e.attempts,
    last_error: e.lastError,
    created_at: toIso(e.createdAt),
    sent_at: e.sentAt === null ? null : toIso(e.sentAt),
  };
}
