import { z } from "zod";
import type { AlertEvent, AlertRule } from "../db/schema.ts";
import { formatNanoAsUsd } from "../money.ts";
import { toIso } from "../time.ts";
import { strictBody } from "../validation.ts";

// The JSON shapes of /api/alerts. Only budget soft-threshold rules exist so far.

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

export const newAlertSchema = strictBody({
  kind: z.enum(["budget_threshold"], { error: "only budget_threshold is implemented" }),
  budget_id: z.number().int().min(1).nullish().meta({ description: "The budget watched (default: every budget)" }),
  channels: z.array(channelSchema).min(1, "must list at least one channel").max(10),
});

const channelJson = z.union([
  z.object({ type: z.literal("email"), to: z.array(z.string()) }),
  z.object({ type: z.literal("webhook"), url: z.string(), format: z.enum(["json", "slack"]) }),
]);

export const alertJsonSchema = z.object({
  id: z.number().int(),
  kind: z.literal("budget_threshold"),
  budget_id: z.number().int().nullable(),
  channels: z.array(channelJson).meta({ description: "Webhook secrets are never shown again" }),
  created_at: z.string(),
});

export const alertEventJsonSchema = z.object({
  id: z.number().int(),
  budget_id: z.number().int(),
  period_start: z.string(),
  threshold: z.number(),
  spent_usd: z.string(),
  status: z.enum(["pending", "sent", "failed"]),
  attempts: z.number().int(),
  last_error: z.string().nullable(),
  created_at: z.string(),
  sent_at: z.string().nullable(),
});

export function alertJson(rule: AlertRule): z.infer<typeof alertJsonSchema> {
  const channels = (JSON.parse(rule.channels) as Channel[]).map((c) => (c.type === "email" ? { type: c.type, to: c.to } : { type: c.type, url: c.url, format: c.format }));
  return { id: rule.id, kind: rule.kind, budget_id: rule.budgetId, channels, created_at: toIso(rule.createdAt) };
}

export function alertEventJson(e: AlertEvent): z.infer<typeof alertEventJsonSchema> {
  return {
    id: e.id,
    budget_id: e.budgetId,
    period_start: toIso(e.periodStart),
    threshold: e.threshold / 100,
    spent_usd: formatNanoAsUsd(BigInt(e.spentNano)),
    status: e.status,
    attempts: e.attempts,
    last_error: e.lastError,
    created_at: toIso(e.createdAt),
    sent_at: e.sentAt === null ? null : toIso(e.sentAt),
  };
}
