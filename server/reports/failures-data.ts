import type { Db } from "../db/open.ts";
import type { FailureGroup } from "../requests/failures.ts";
import { neutraliseCell, quote } from "../usage/usage-csv.ts";
import { measuresJson, type MeasuresJson } from "../usage/usage-json.ts";
import { queryUsage } from "../usage/usage-query.ts";
import { toIso } from "../time.ts";
import { failuresLink } from "./links.ts";
import { usageParams, type ReportScope } from "./spend-data.ts";

// The figures of a failures digest: failed calls of the period grouped by status + error type +
// model. Totals (requests, errors) come from queryUsage like /api/usage; the groups need the
// status code and error type, which only raw calls keep, so they are read from `calls` through
// the failed-calls partial index (same grouping as the dashboard's /requests/failed, plus the
// schedule's team/project/model filter, which that query does not take).

/** Top groups shown; the rest are summed into one line, so a storm of odd errors stays short. */
const FAILURE_GROUPS_SHOWN = 25;

// Repeated verbatim from calls_failed_created_idx's WHERE so SQLite can use that index.
const FAILED = "(status >= 400 OR error_type IS NOT NULL)";

/** A group as the dashboard's /requests/failed has it, plus an example message and a link. */
interface FailureGroupRow extends Pick<FailureGroup, "status" | "errorType" | "model" | "count" | "firstSeen" | "lastSeen"> {
  /** Newest error message of the group (already scrubbed of secrets when recorded). */
  example: string | null;
  link: string | null;
}

export interface FailuresData {
  kind: "failures";
  scope: ReportScope;
  totals: MeasuresJson;
  previousTotals: MeasuresJson;
  groups: FailureGroupRow[];
  /** Failed calls in groups beyond the top FAILURE_GROUPS_SHOWN. */
  otherCount: number;
  allFailuresUrl: string | null;
  csv: string;
}

export function failuresData(db: Db, scope: ReportScope, publicUrl: string | undefined): FailuresData {
  const totals = queryUsage(db, usageParams(scope, scope.range, [])).totals;
  const previousTotals = queryUsage(db, usageParams(scope, scope.previous, [])).totals;
  const { groups, total } = failureGroupsOf(db, scope);
  const shown = groups.slice(0, FAILURE_GROUPS_SHOWN);
  const withLinks = shown.map((g) => ({ ...g, link: failuresLink(publicUrl, scope.range, scope.filter, g) }));
  return {
    kind: "failures",
    scope,
    totals: measuresJson(totals),
    previousTotals: measuresJson(previousTotals),
    groups: withLinks,
    otherCount: total - shown.reduce((n, g) => n + g.count, 0),
    allFailuresUrl: failuresLink(publicUrl, scope.range, scope.filter),
    csv: failuresCsv(groups, total),
  };
}

const FILTER_SQL = { team: "team = :team", project: "project = :project", model: "model = :model" } as const;

/** Groups, largest first (at most MAX_CSV_GROUPS), and the number of all failed calls. */
function failureGroupsOf(db: Db, scope: ReportScope): { groups: Omit<FailureGroupRow, "link">[]; total: number } {
  const client = db.$client;
  const filter = scope.filter ?? {};
  const terms = (Object.keys(FILTER_SQL) as (keyof typeof FILTER_SQL)[]).filter((k) => filter[k] !== undefined);
  const where = [FAILED, "created_at >= :from", "created_at < :to", ...terms.map((k) => FILTER_SQL[k])].join(" AND ");
  const params = { from: scope.range.start, to: scope.range.end, ...Object.fromEntries(terms.map((k) => [k, filter[k]!])) };
  // One read transaction, so the groups and the total come from one snapshot and add up.
  return client.transaction(() => {
    const groups = client
      .prepare(
        `SELECT status, error_type AS errorType, model, COUNT(*) AS count, MIN(created_at) AS firstSeen, MAX(created_at) AS lastSeen, MAX(id) AS exampleId
         FROM calls WHERE ${where}
         GROUP BY status, error_type, model
         ORDER BY count DESC, status, errorType, model
         LIMIT ${MAX_CSV_GROUPS}`,
      )
      .all(params) as (Omit<FailureGroupRow, "link" | "example"> & { exampleId: number })[];
    // The newest call's message per group, by primary key.
    const messages = new Map(
      (
        client
          .prepare(`SELECT id, error_message AS message FROM calls WHERE id IN (SELECT value FROM json_each(?))`)
          .all(JSON.stringify(groups.map((g) => g.exampleId))) as { id: number; message: string | null }[]
      ).map((m) => [m.id, m.message]),
    );
    const total = client.prepare(`SELECT COUNT(*) FROM calls WHERE ${where}`).pluck().get(params) as number;
    return { groups: groups.map(({ exampleId, ...g }) => ({ ...g, example: messages.get(exampleId) ?? null })), total };
  })();
}

/** Bound on the attachment: past this many distinct groups the rest is one "(other)" line. */
const MAX_CSV_GROUPS = 1_000;

function failuresCsv(groups: Omit<FailureGroupRow, "link">[], total: number): string {
  const header = ["status", "error_type", "model", "failures", "first_seen", "last_seen", "example_error"];
  const lines = [header.join(",")];
  for (const g of groups) {
    const cells = [String(g.status), neutraliseCell(g.errorType ?? ""), neutraliseCell(g.model ?? ""), String(g.count), toIso(g.firstSeen), toIso(g.lastSeen), neutraliseCell((g.example ?? "").slice(0, 500))];
    lines.push(cells.map(quote).join(","));
  }
  const rest = total - groups.reduce((n, g) => n + g.count, 0);
  if (rest > 0) lines.push(["", "", "(other)", String(rest), "", "", ""].join(","));
  return lines.join("\r\n") + "\r\n";
}
