import { OTHER_LABEL, addMeasures, sumMeasures, zeroMeasures, type Measures, type UsageReport, type UsageRow } from "../spend/usage-query.ts";

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
  const rows = [...byValue.values()].sort(compareRows);
  return { ...report, groupBy: [dimKey as UsageReport["groupBy"][number]], rows, totals: sumMeasures(rows) };
}


// queryUsage's order within one period: "(other)" last, then spend, requests, value.
function compareRows(a: UsageRow, b: UsageRow): number {
  if (a.other !== b.other) return a.other ? 1 : -1;
  if (a.costNano !== b.costNano) return a.costNano > b.costNano ? -1 : 1;
  if (a.requests !== b.requests) return a.requests > b.requests ? -1 : 1;
  const ka = JSON.stringify(Object.values(a.group));
  const kb = JSON.stringify(Object.values(b.group));
  return ka < kb ? -1 : ka > kb ? 1 : 0;
}
