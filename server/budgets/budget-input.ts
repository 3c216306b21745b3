import { z } from "zod";
import type { Budget } from "../db/schema.ts";
import { formatNanoAsUsd, MoneyError, parseUsdToNano } from "../money.ts";
import { isValidTimeZone, toIso } from "../time.ts";
import { strictBody } from "../validation.ts";
import { soft, type BudgetStanding } from "./budgets-store.ts";

// The JSON shapes of /api/budgets. Amounts are decimal strings in and out, nano-USD inside.

/** The serving thread holds budget room in plain numbers: 9e15 nano-USD is under 2^53. */
const MAX_AMOUNT_NANO = 9_000_000n * 1_000_000_000n;

const amount = z
  .unknown()
  .transform((v, ctx) => {
    try {
      const nano = parseUsdToNano(v);
      if (nano <= 0n) ctx.addIssue({ code: "custom", message: "must be more than 0" });
      else if (nano > MAX_AMOUNT_NANO) ctx.addIssue({ code: "custom", message: "must be at most 9000000" });
      return Number(nano);
    } catch (err) {
      if (!(err instanceof MoneyError)) throw err;
      ctx.addIssue({ code: "custom", message: err.message });
      return z.NEVER;
    }
  })
  .meta({ description: 'USD as a decimal string, e.g. "25.00"', example: "25.00" });

const fields = {
  scope: z.enum(["key", "team", "project"]).meta({ description: "What the budget limits" }),
  target: z.string().trim().min(1, "must not be empty").max(128, "must be at most 128 characters").meta({ description: "The key id, team or project" }),
  amount_usd: amount,
  period: z.enum(["daily", "weekly", "monthly"]),
  timezone: z
    .string()
    .refine(isValidTimeZone, { message: "unknown IANA time zone (e.g. Europe/London, America/New_York, UTC)" })
    .meta({ description: "IANA zone the period's calendar is in", example: "Europe/London" }),
  soft_thresholds: z
    .array(z.number().gt(0, "must be more than 0").max(100, "must be at most 100 (percent)"))
    .max(10)
    .meta({ description: "Percentages of the amount that warn, e.g. [50, 80, 95]" }),
  hard: z.boolean().meta({ description: "Refuse calls (429 budget_exceeded) once the amount is reached" }),
};

export function newBudgetSchema(defaultTz: string) {
  return strictBody({ ...fields, timezone: fields.timezone.default(defaultTz), soft_thresholds: fields.soft_thresholds.default([50, 80, 95]), hard: fields.hard.default(false) });
}

export const budgetPatchSchema = strictBody({
  amount_usd: amount.optional(),
  period: fields.period.optional(),
  timezone: fields.timezone.optional(),
  soft_thresholds: fields.soft_thresholds.optional(),
  hard: fields.hard.optional(),
}).refine((p) => Object.values(p).some((v) => v !== undefined), { message: "give at least one field to change" });

export const budgetJsonSchema = z.object({
  id: z.number().int(),
  scope: z.enum(["key", "team", "project"]),
  target: z.string(),
  amount_usd: z.string(),
  period: z.enum(["daily", "weekly", "monthly"]),
  timezone: z.string(),
  soft_thresholds: z.array(z.number()),
  hard: z.boolean(),
  spent_usd: z.string().meta({ description: "Cost of the calls of this period so far" }),
  reserved_usd: z.string().meta({ description: "Room held by running tollbooth processes for calls in flight" }),
  remaining_usd: z.string().meta({ description: "amount − spent − reserved, at least 0" }),
  projected_usd: z.string().meta({ description: "Spend so far extended linearly to the end of the period" }),
  period_start: z.string(),
  period_end: z.string(),
  created_at: z.string(),
  updated_at: z.string(),
});

export function budgetJson(s: BudgetStanding): z.infer<typeof budgetJsonSchema> {
  const b: Budget = s.budget;
  return {
    id: b.id,
    scope: b.scope,
    target: b.target,
    amount_usd: formatNanoAsUsd(BigInt(b.amountNano)),
    period: b.period,
    timezone: b.timezone,
    soft_thresholds: soft(b),
    hard: b.hard,
    spent_usd: formatNanoAsUsd(s.spentNano),
    reserved_usd: formatNanoAsUsd(s.reservedNano),
    remaining_usd: formatNanoAsUsd(s.remainingNano),
    projected_usd: formatNanoAsUsd(s.projectedNano),
    period_start: toIso(s.periodStart),
    period_end: toIso(s.periodEnd),
    created_at: toIso(b.createdAt),
    updated_at: toIso(b.updatedAt),
  };
}
