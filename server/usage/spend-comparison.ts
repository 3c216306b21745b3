import type { Db } from "../db/database.ts";
import { groupKey } from "./spend-groups.ts";
import { isCalendarUnit, queryUsage, type GroupKey, type Measures } from "./usage-query.ts";

// The spend page's Previous and Change: the previous period's cost per group. The page and its
// CSV read it through here, so the download holds what the table shows.

export interface SpendComparison {
  byGroup: Map<string, Measures>;
  totals: Measures;
}

export async function querySpendComparison(db: Db, range: { from: number; to: number }, tz: string, groupBy: GroupKey[]): Promise<SpendComparison> {
  // Calendar labels differ between periods, so only dimension breakdowns compare row by row.
  const prev = await queryUsage(db, { from: range.from, to: range.to, tz, groupBy: groupBy.filter((k) => !isCalendarUnit(k)) });
  const byGroup = new Map<string, Measures>(groupBy.some(isCalendarUnit) ? [] : prev.rows.map((r) => [groupKey(r.group), r]));
  return { byGroup, totals: prev.totals };
}
