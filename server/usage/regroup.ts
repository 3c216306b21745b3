import { OTHER_LABEL, addMeasures, compareUsageRows, sumMeasures, zeroMeasures, type UsageReport, type UsageRow } from "./usage-query.ts";

// Re-adding a usage report by one of its dimensions, so a page that already holds a
// [period, model] report gets its [model] table without a second trip through the rollups.

/**
 * The rows of `report` that `include` keeps, added up by `dimKey` alone: what queryUsage answers
 * for groupBy [dimKey] over the same range. Exact, "(other)" included, because queryUsage picks a
 * dimension's top values over the whole [from, to) whatever the period split, so both reports
 * fold the same values. Rows come back in queryUsage's order: biggest spend first, "(other)" last.
 */
export function regroup(report: UsageReport, dimKey: string, include: (row: UsageRow) => boolean = () => true): UsageReport {
  const byValue = new Map<string | null, UsageRow>();
  for (const row of report.rows) {
    if (!include(row)) continue;
    const value = row.group[dimKey] ?? null;
    const other = row.other && value === OTHER_LABEL;
    let sum = byValue.get(value);
    if (!sum) byValue.set(value, (sum = { group: { [dimKey]: value }, other, periodIndex: 0, ...zeroMeasures() }));
    addMeasures(sum, row);
  }
  const rows = [...byValue.values()].sort(compareUsageRows); // every regrouped row is in period 0
  return { ...report, groupBy: [dimKey as UsageReport["groupBy"][number]], rows, totals: sumMeasures(rows) };
}


