import { z } from "zod";
import type { TollboothKey } from "../db/schema.ts";
import { parseInstant, TimeError, toIso } from "../time.ts";
import { strictBody } from "../validation.ts";
import type { KeyView } from "./keys-store.ts";

// The JSON shapes of /api/keys: what a new key and a rotation take, what a key looks like.

// Same rule as the attribution headers the key stands in for: 1–128 printable characters.
const label = (what: string) =>
  z
    .string()
    .trim()
    .min(1, "must not be empty")
    .max(128, "must be at most 128 characters")
    .regex(/^[^\p{Cc}\p{Cs}\u2028\u2029]+$/u, "must be printable characters")
    .meta({ description: what });

const perMinute = (what: string) => z.number().int("must be a whole number").min(1, "must be at least 1").max(1_000_000_000).meta({ description: what });

export function newKeySchema(now: () => number) {
  return strictBody({
    name: label("What the key is for, e.g. search-prod"),
    team: label("Team its calls are recorded under (wins over X-Tollbooth-Team)").nullish(),
    project: label("Project its calls are recorded under (wins over X-Tollbooth-Project)").nullish(),
    expires_at: z
      .string()
      .nullish()
      .transform((v, ctx) => {
        if (v === null || v === undefined) return null;
        try {
          const at = parseInstant(v, "UTC");
          if (at <= now()) ctx.addIssue({ code: "custom", message: "must be in the future" });
          return at;
        } catch (err) {
          if (!(err instanceof TimeError)) throw err;
          ctx.addIssue({ code: "custom", message: err.message });
          return z.NEVER;
        }
      })
      .meta({ description: "ISO 8601 instant after which the key stops working" }),
    models: z.array(label("A model name")).min(1, "must list at least one model (omit it for any model)").max(200).nullish().meta({ description: "Models the key may call (default: any)" }),
    rpm: perMinute("Requests per minute (default: no limit)").nullish(),
    tpm: perMinute("Tokens per minute, prompt plus max_tokens (default: no limit)").nullish(),
  });
}

export const rotateSchema = strictBody({
  grace_seconds: z
    .number()
    .int("must be a whole number")
    .min(0, "must not be negative")
    .max(30 * 86_400, "must be at most 30 days")
    .default(3600)
    .meta({ description: "How long the old key keeps working (default 3600)" }),
});

export const keyJsonSchema = z.object({
  id: z.string(),
  name: z.string(),
  prefix: z.string().meta({ description: "First characters of the current key, e.g. tb_7Hq2xK9a" }),
  team: z.string().nullable(),
  project: z.string().nullable(),
  models: z.array(z.string()).nullable(),
  rpm: z.number().int().nullable(),
  tpm: z.number().int().nullable(),
  status: z.enum(["active", "revoked", "expired"]),
  expires_at: z.string().nullable(),
  revoked_at: z.string().nullable(),
  last_used_at: z.string().nullable(),
  created_at: z.string(),
});

export const keyWithSecretSchema = keyJsonSchema.extend({ key: z.string().meta({ description: "The key itself: shown in this answer only, never again" }) });

function keyStatus(key: TollboothKey, now: number): "active" | "revoked" | "expired" {
  if (key.revokedAt !== null) return "revoked";
  if (key.expiresAt !== null && key.expiresAt <= now) return "expired";
  return "active";
}

export function keyJson(key: KeyView, now: number): z.infer<typeof keyJsonSchema> {
  const iso = (ms: number | null) => (ms === null ? null : toIso(ms));
  return {
    id: key.id,
    name: key.name,
    prefix: key.prefix,
    team: key.team,
    project: key.project,
    models: key.models === null ? null : (JSON.parse(key.models) as string[]),
    rpm: key.rpm,
    tpm: key.tpm,
    status: keyStatus(key, now),
    expires_at: iso(key.expiresAt),
    revoked_at: iso(key.revokedAt),
    last_used_at: iso(key.lastUsedAt),
    created_at: toIso(key.createdAt),
  };
}
