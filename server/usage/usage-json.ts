import { z } from "zod";
import { formatNanoAsUsd } from "../money.ts";
import { toIso } from "../time.ts";
import type { Measures, UsageReport } from "./usage-query.ts";

// The JSON shape of usage answers. Counts and tokens become JSON numbers (far below 2^53 for
// any real data; toSafeNumber fails loudly otherwise); money is a decimal string in USD.

export const MEASURE_FIELDS = ["requests", "errors", "prompt_tokens", "completion_tokens", "cost_usd", "unpriced_requests"] as const;

const count = z.number().int().nonnegative();
const usd = z.string().meta({ description: "USD as a decimal string, exact to the nano-dollar", example: "0.574125200" });

export const measuresJsonSchema = z.object({
  requests: count,
  errors: count,
  prompt_tokens: count,
  completion_tokens: count,
  cost_usd: usd,
  unpriced_requests: count.meta({ description: "Calls of a model without a price (never counted as $0)" }),
});
export type MeasuresJson = z.infer<typeof measuresJsonSchema>;

const usageRowJsonSchema = measuresJsonSchema.extend({
  group: z.record(z.string(), z.string().nullable()).meta({ description: "The value of each group_by key for this row" }),
  other: z.literal(true).optional().meta({ description: 'Set on the "(other)" row folding everything past the top 20' }),
});
export type UsageRowJson = z.infer<typeof usageRowJsonSchema>;

export const usageJsonSchema = z.object({
  currency: z.literal("USD"),
  tz: z.string(),
  from: z.string(),
  to: z.string(),
  rounded: z.literal(true).optional().meta({ description: "Set when from or to was rounded outward to a 15-minute edge: raw calls there were deleted by retention (from/to say what was answered)" }),
  group_by: z.array(z.string()),
  rows: z.array(usageRowJsonSchema),
  totals: measuresJsonSchema,
});
export type UsageJson = z.infer<typeof usageJsonSchema>;

export function measuresJson(m: Measures): MeasuresJson {
  return {
    requests: toSafeNumber(m.requests),
    errors: toSafeNumber(m.errors),
    prompt_tokens: toSafeNumber(m.promptTokens),
    completion_tokens: toSafeNumber(m.completionTokens),
    cost_usd: formatNanoAsUsd(m.costNano),
    unpriced_requests: toSafeNumber(m.unpricedRequests),
  };
}

export function usageJson(report: UsageReport): UsageJson {
  return {
    currency: "USD",
    tz: report.tz,
    from: toIso(report.from),
    to: toIso(report.to),
    ...(report.rounded ? { rounded: true as const } : {}),
    group_by: report.groupBy,
    rows: report.rows.map((r) => ({ group: r.group, ...(r.other ? { other: true as const } : {}), ...measuresJson(r) })),
    totals: measuresJson(report.totals),
  };
}

function toSafeNumber(n: bigint): number {
  if (n > BigInt(Number.MAX_SAFE_INTEGER)) throw new Error(`count ${n} exceeds 2^53; it cannot be a JSON number`);
  return Number(n);
}
