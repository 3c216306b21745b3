import type { Db } from "../db/database.ts";
import { percentChange } from "../money.ts";
import { toIso } from "../time.ts";
import { usageCsv } from "../usage/usage-csv.ts";
import { labelKeyRows } from "../keys/key-label.ts";
import type { KeyNames } from "../keys/key-names-store.ts";
import { measuresJson, usageJson, type MeasuresJson, type UsageRowJson } from "../usage/usage-json.ts";
import { queryUsage, type UsageParams, type UsageReport } from "../usage/usage-query.ts";
import { spendLink } from "./links.ts";
import { biggestMovers, type Mover } from "./movers.ts";
import type { ReportFilter } from "./schedule-input.ts";
import type { ReportRange } from "./schedule.ts";

// The figures of a spend report. Every number comes from queryUsage, the function behind
// GET /api/usage, with the same range, zone and filter, so the email equals the API by
// construction; the CSV attachment is byte for byte /api/usage.csv?group_by=team,model.

export interface ReportScope {
  range: ReportRange;
  previous: ReportRange;
  tz: string;
  filter: ReportFilter | null;
}

export interface SpendData {
  kind: "spend";
  scope: ReportScope;
  totals: MeasuresJson;
  previousTotals: MeasuresJson;
  /** Spend change vs the previous period in percent ("12.50"), null when that spent nothing. */
  changePercent: string | null;
  byModel: UsageRowJson[];
  byTeam: UsageRowJson[];
  byKey: UsageRowJson[];
  movers: Mover[];
  dashboardUrl: string | null;
  /** Query string of the equivalent /api/usage.csv call, for the email's footnote. */
  csvQuery: string;
  csv: string;
}

const CSV_GROUP_BY = ["team", "model"] as const;
const MOVERS_SHOWN = 6;

export function usageParams(scope: ReportScope, range: ReportRange, groupBy: UsageParams["groupBy"]): UsageParams {
  return { from: range.start, to: range.end, tz: scope.tz, groupBy, ...(scope.filter ? { filter: scope.filter } : {}) };
}

export async function spendData(db: Db, scope: ReportScope, publicUrl: string | undefined, keyNames: KeyNames = new Map()): Promise<SpendData> {
  const current = (groupBy: UsageParams["groupBy"]) => queryUsage(db, usageParams(scope, scope.range, groupBy));
  const previous = (groupBy: UsageParams["groupBy"]) => queryUsage(db, usageParams(scope, scope.previous, groupBy));
  const byModel = await current(["model"]);
  const byTeam = await current(["team"]);
  const prevByModel = await previous(["model"]);
  const prevByTeam = await previous(["team"]);
  const csvReport: UsageReport = await current([...CSV_GROUP_BY]);
  const byKey = await current(["key"]);
  return {
    kind: "spend",
    scope,
    totals: measuresJson(byModel.totals),
    previousTotals: measuresJson(prevByModel.totals),
    changePercent: percentChange(byModel.totals.costNano, prevByModel.totals.costNano),
    byModel: usageJson(byModel).rows,
    byTeam: usageJson(byTeam).rows,
    byKey: labelKeyRows(usageJson(byKey).rows, keyNames),
    movers: [...biggestMovers("model", byModel, prevByModel), ...biggestMovers("team", byTeam, prevByTeam)]
      .sort((a, b) => (a.magnitude === b.magnitude ? 0 : a.magnitude > b.magnitude ? -1 : 1))
      .slice(0, MOVERS_SHOWN),
    dashboardUrl: spendLink(publicUrl, scope.range, scope.tz, scope.filter),
    csvQuery: csvQuery(scope),
    csv: usageCsv(usageJson(csvReport)),
  };
}

/** Readable (not percent-encoded): it is shown in the email's small print, not followed. */
function csvQuery(scope: ReportScope): string {
  const params: [string, string][] = [["from", toIso(scope.range.start)], ["to", toIso(scope.range.end)], ["tz", scope.tz], ["group_by", CSV_GROUP_BY.join(",")]];
  for (const [k, v] of Object.entries(scope.filter ?? {})) params.push([k, v]);
  return params.map(([k, v]) => `${k}=${v}`).join("&");
}
