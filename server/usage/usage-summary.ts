import type { Db } from "../db/database.ts";
import { formatNanoAsUsd, percentChange, prorate } from "../money.ts";
import { bucketEndAfter, nextPeriodStart, startOf, toIso, type CalendarUnit } from "../time.ts";
import { z } from "zod";
import { measuresJson, measuresJsonSchema } from "./usage-json.ts";
import { queryUsage } from "./usage-query.ts";

// GET /api/usage/summary: "what did we spend this period, and is it going up?"

export type SummaryPeriod = Extract<CalendarUnit, "day" | "week" | "month">;
export const SUMMARY_PERIODS: readonly SummaryPeriod[] = ["day", "week", "month"];

export const usageSummaryJsonSchema = z.object({
  currency: z.literal("USD"),
  tz: z.string(),
  period: z.enum(["day", "week", "month"]),
  current: measuresJsonSchema.extend({ from: z.string(), to: z.string(), as_of: z.string() }),
  previous: measuresJsonSchema.extend({ from: z.string(), to: z.string() }),
  projected_cost_usd: z.string().nullable().meta({ description: "Spend to date × period length / time elapsed; null at the very start" }),
  change_percent: z.string().nullable().meta({ description: "Projection against the previous period; null when that was $0" }),
});

export async function usageSummary(db: Db, period: SummaryPeriod, tz: string, now: number): Promise<z.infer<typeof usageSummaryJsonSchema>> {
  const start = startOf(period, now, tz);
  const end = nextPeriodStart(period, start, tz);
  const previousStart = startOf(period, start - 1, tz);
  // To the end of the current 15-minute bucket: no call is newer than now, so this is "to date".
  const current = (await queryUsage(db, { from: start, to: bucketEndAfter(now), tz, groupBy: [] })).totals;
  const previous = (await queryUsage(db, { from: previousStart, to: start, tz, groupBy: [] })).totals;

  // Linear by elapsed time: spend so far × period length / time elapsed, rounded once.
  const elapsed = now - start;
  const projected = elapsed > 0 ? prorate(current.costNano, BigInt(end - start), BigInt(elapsed)) : null;
  return {
    currency: "USD" as const,
    tz,
    period,
    current: { from: toIso(start), to: toIso(end), as_of: toIso(now), ...measuresJson(current) },
    previous: { from: toIso(previousStart), to: toIso(start), ...measuresJson(previous) },
    projected_cost_usd: projected === null ? null : formatNanoAsUsd(projected),
    // Projected end-of-period spend against the previous full period: comparing spend to date
    // with a whole period would read as a drop every morning. null when the previous one was 0.
    change_percent: percentChange(projected ?? current.costNano, previous.costNano),
  };
}
