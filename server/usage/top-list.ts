import { formatNanoAsUsd } from "../money.ts";
import { OTHER_LABEL, type UsageReport } from "./usage-query.ts";

// "Top models / teams / keys" lists from a usage report grouped by one dimension.

export interface TopItem {
  name: string | null;
  other: boolean;
  costUsd: string;
  requests: number;
  /** Calls of models without a price (their cost is unknown, not zero). */
  unpricedRequests: number;
  /** Share of the report's total cost (or of requests when nothing is priced), 0..1, for a <meter>. */
  share: number;
}

export function topItems(report: UsageReport, key: string, limit: number): TopItem[] {
  const totalCost = Number(formatNanoAsUsd(report.totals.costNano));
  const totalRequests = Number(report.totals.requests);
  return report.rows.slice(0, limit).map((row) => {
    const costUsd = formatNanoAsUsd(row.costNano);
    const share = totalCost > 0 ? Number(costUsd) / totalCost : totalRequests > 0 ? Number(row.requests) / totalRequests : 0;
    const name = row.group[key] ?? null;
    return { name, other: row.other || name === OTHER_LABEL, costUsd, requests: Number(row.requests), unpricedRequests: Number(row.unpricedRequests), share };
  });
}
