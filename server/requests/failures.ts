import type { Db } from "../db/open.ts";

// The failures view: failed calls in a time window grouped by status + error type + model, with
// counts, first/last seen, an example call and a per-slot histogram for a sparkline. Every query
// is bounded by the window and reads calls_failed_created_idx (failures are a small share of all
// calls), and the groups are top-N, so a storm of distinct bad model names stays one short page.

// Repeated verbatim from calls_failed_created_idx's WHERE (see query.ts's FAILED for why).
const FAILED = "(status >= 400 OR error_type IS NOT NULL)";
const IN_WINDOW = `${FAILED} AND created_at >= :from AND created_at < :to`;

export interface FailureGroup {
  status: number;
  errorType: string | null;
  model: string | null;
  count: number;
  firstSeen: number;
  lastSeen: number;
  /** The newest call of the group, for "see an example". */
  exampleId: number;
  /** Failures per slot, oldest first; `slots` entries. */
  histogram: number[];
}

export interface FailureReport {
  from: number;
  to: number;
  slotMs: number;
  groups: FailureGroup[];
  /** All failures in the window, including groups beyond the top N. */
  total: number;
}

export interface FailureQuery {
  from: number;
  to: number;
  limit: number;
  slots: number;
}

type GroupRow = Omit<FailureGroup, "histogram">;

export function failureGroups(db: Db, q: FailureQuery): FailureReport {
  const client = db.$client;
  const slotMs = Math.max(1, Math.ceil((q.to - q.from) / q.slots));
  const window = { from: q.from, to: q.to };
  // One read transaction: the three reads see the same snapshot, so counts add up.
  return client.transaction((): FailureReport => {
    const groups = client
      .prepare(
        `SELECT status, error_type AS errorType, model, COUNT(*) AS count,
                MIN(created_at) AS firstSeen, MAX(created_at) AS lastSeen, MAX(id) AS exampleId
         FROM calls WHERE ${IN_WINDOW}
         GROUP BY status, error_type, model
         ORDER BY count DESC, lastSeen DESC
         LIMIT :limit`,
      )
      .all({ ...window, limit: q.limit }) as GroupRow[];
    const total = client.prepare(`SELECT COUNT(*) FROM calls WHERE ${IN_WINDOW}`).pluck().get(window) as number;
    if (groups.length === 0) return { from: q.from, to: q.to, slotMs, groups: [], total };

    // Histograms of the top groups only; '' stands in for NULL so the keys compare with =.
    // better-sqlite3 binds JS numbers as REAL, so the slot division is cast back to an integer.
    const keys = JSON.stringify(groups.map((g) => [g.status, g.errorType ?? "", g.model ?? ""]));
    const cells = client
      .prepare(
        `SELECT status, COALESCE(error_type, '') AS e, COALESCE(model, '') AS m, CAST((created_at - :from) / :slotMs AS INTEGER) AS slot, COUNT(*) AS n
         FROM calls WHERE ${IN_WINDOW}
           AND (status, COALESCE(error_type, ''), COALESCE(model, '')) IN
               (SELECT value ->> 0, value ->> 1, value ->> 2 FROM json_each(:keys))
         GROUP BY 1, 2, 3, 4`,
      )
      .all({ ...window, slotMs, keys }) as Array<{ status: number; e: string; m: string; slot: number; n: number }>;
    const byKey = new Map(groups.map((g) => [groupKey(g.status, g.errorType ?? "", g.model ?? ""), new Array<number>(q.slots).fill(0)]));
    for (const cell of cells) {
      const hist = byKey.get(groupKey(cell.status, cell.e, cell.m));
      if (hist && cell.slot >= 0 && cell.slot < q.slots) hist[cell.slot]! += cell.n;
    }
    return {
      from: q.from,
      to: q.to,
      slotMs,
      groups: groups.map((g) => ({ ...g, histogram: byKey.get(groupKey(g.status, g.errorType ?? "", g.model ?? ""))! })),
      total,
    };
  })();
}

function groupKey(status: number, errorType: string, model: string): string {
  return JSON.stringify([status, errorType, model]);
}
