import { formatNanoAsUsd, percentChange } from "../money.ts";
import type { KeyNames } from "../keys/key-names-store.ts";
import { groupKey } from "./spend-groups.ts";
import { csvText, usageCsvCells } from "./usage-csv.ts";
import { MEASURE_FIELDS, usageJson } from "./usage-json.ts";
import type { Measures, UsageReport } from "./usage-query.ts";
import type { SpendComparison } from "./spend-comparison.ts";

// The spend page's CSV: what its table shows. /api/usage.csv's columns and rows, then (when the
// page compares) the previous period's cost and the change per row, and the Total row last.

/** "24.20" (percent, two decimals), or "new" where the table says new (no cost before). */
function change(current: bigint, before: Measures | undefined): string {
  if (!before) return "new";
  return percentChange(current, before.costNano) ?? "new";
}

export function spendCsv(usage: UsageReport, previous: SpendComparison | null, names: KeyNames): string {
  const report = usageJson(usage);
  const { header, rows } = usageCsvCells(report, names);
  const groupColumns = header.length - MEASURE_FIELDS.length;
  // One label cell over the group columns, as the table's footer (no groups: no label).
  const total = [...(groupColumns > 0 ? ["Total", ...Array<string>(groupColumns - 1).fill("")] : []), ...MEASURE_FIELDS.map((f) => String(report.totals[f]))];
  if (!previous) return csvText([header, ...rows, total]);
  return csvText([
    [...header, "previous_cost_usd", "change_pct"],
    ...rows.map((cells, i) => {
      const before = previous.byGroup.get(groupKey(usage.rows[i]!.group));
      return [...cells, before ? formatNanoAsUsd(before.costNano) : "", change(usage.rows[i]!.costNano, before)];
    }),
    [...total, formatNanoAsUsd(previous.totals.costNano), change(usage.totals.costNano, previous.totals)],
  ]);
}
