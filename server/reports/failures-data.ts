import { sql, type SQL } from "drizzle-orm";
import type { Db } from "../db/database.ts";
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

export async function failuresData(db: Db, scope: ReportScope, publicUrl: string | undefined): Promise<FailuresData> {
  const totals = (await queryUsage(db, usageParams(scope, scope.range, []))).totals;
  const previousTotals = (await queryUsage(db, usageParams(scope, scope.previous, []))).totals;
  const { groups, total } = await failureGroupsOf(db, scope);
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

const FILTER_COLUMNS = ["team", "project", "model"] as const;

/** Groups, largest first (at most MAX_CSV_GROUPS), and the number of all failed calls. */
function failureGroupsOf(db: Db, scope: ReportScope): Promise<{ groups: Omit<FailureGroupRow, "link">[]; total: number }> {
  const filter = scope.filter ?? {};
  const terms: SQL[] = FILTER_COLUMNS.flatMap((k) => (filter[k] !== undefined ? [sql`${sql.identifier(k)} = ${filter[k]}`] : []));
  const where = sql.join([sql.raw(FAILED), sql`created_at >= ${scope.range.start}`, sql`created_at < ${scope.range.end}`, ...terms], sql` AND `);
  // One read transaction, so the groups and the total come from one snapshot and add up.
  return db.transaction(async (tx) => {
    const groups = await tx.all<Omit<FailureGroupRow, "link" | "example"> & { exampleId: number }>(
      sql`SELECT status, error_type AS "errorType", model, COUNT(*) AS count, MIN(created_at) AS "firstSeen", MAX(created_at) AS "lastSeen", MAX(id) AS "exampleId"
         FROM calls WHERE ${where}
         GROUP BY status, error_type, model
         ORDER BY count DESC, status, "errorType", model
         LIMIT ${sql.raw(String(MAX_CSV_GROUPS))}`,
    );
    // The newest call's message per group, by primary key (at most MAX_CSV_GROUPS ids).
    const ids = groups.map((g) => g.exampleId);
    const rows = ids.length === 0 ? [] : await tx.all<{ id: number; message: string | null }>(sql`SELECT id, error_message AS message FROM calls WHERE id IN (${sql.join(ids, sql`, `)})`);
    const messages = new Map(rows.map((m) => [m.id, m.message]));
    const total = (await tx.get<{ n: number }>(sql`SELECT COUNT(*) AS n FROM calls WHERE ${where}`))!.n;
    return { groups: groups.map(({ exampleId, ...g }) => ({ ...g, example: messages.get(exampleId) ?? null })), total };
  }, { snapshot: true });
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
