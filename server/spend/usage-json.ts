import { formatNanoAsUsd } from "../money.ts";
import { toIso } from "../time.ts";
import type { Measures, UsageReport } from "./usage-query.ts";

// The JSON shape of usage answers. Counts and tokens become JSON numbers (far below 2^53 for
// any real data; toSafeNumber fails loudly otherwise); money is a decimal string in USD.

export const MEASURE_FIELDS = ["requests", "errors", "prompt_tokens", "completion_tokens", "cost_usd", "unpriced_requests"] as const;

export interface MeasuresJson {
  requests: number;
  errors: number;
  prompt_tokens: number;
  completion_tokens: number;
  cost_usd: string;
  unpriced_requests: number;
}

export interface UsageRowJson extends MeasuresJson {
  group: Record<string, string | null>;
  other?: true;
}

export interface UsageJson {
  currency: "USD";
  tz: string;
  from: string;
  to: string;
  group_by: string[];
  rows: UsageRowJson[];
  totals: MeasuresJson;
}

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
    group_by: report.groupBy,
    rows: report.rows.map((r) => ({ group: r.group, ...(r.other ? { other: true as const } : {}), ...measuresJson(r) })),
    totals: measuresJson(report.totals),
  };
}

function toSafeNumber(n: bigint): number {
  if (n > BigInt(Number.MAX_SAFE_INTEGER)) throw new Error(`count ${n} exceeds 2^53; it cannot be a JSON number`);
  return Number(n);
}
