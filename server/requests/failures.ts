import { sql } from "drizzle-orm";
import type { Db } from "../db/database.ts";

// The failures view: failed calls in a time window grouped by status + error type + model, with
// counts, first/last seen, an example call and a per-slot histogram for a sparkline. Every query
// is bounded by the window and reads calls_failed_created_idx (failures are a small share of all
// calls), and the groups are top-N, so a storm of distinct bad model names stays one short page.
//
// Grouping needs each failure's status, error type and model, which only the table row holds, so
// it costs one row lookup per failure: 2–3 µs at 10M calls, so ~1 s for the 100k failures a
// 30-day window holds there at 3 % errors. The groups therefore cover at most the newest
// `maxGrouped` failures of the window (the report says since when; at 10M calls that is the last
// ~36 hours, and all of a 24-hour window); the total is still every failure of the window,
// counted on the index alone (no lookups, ~5 ms per 100k).

// Repeated verbatim from calls_failed_created_idx's WHERE (see query.ts's FAILED for why).
const FAILED = "(status >= 400 OR error_type IS NOT NULL)";
const inWindow = (w: { from: number; to: number }) => sql`${sql.raw(FAILED)} AND created_at >= ${w.from} AND created_at < ${w.to}`;

/** Failures grouped per page load at most: 10–20 ms of row lookups at 10M calls (bench/pages-*.ts). */
const MAX_GROUPED = 5_000;

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
  /** Start of the span the groups and histograms cover: `from`, or later when the window held more than maxGrouped failures. */
  groupedFrom: number;
  slotMs: number;
  groups: FailureGroup[];
  /** All failures in the window, including groups beyond the top N and before groupedFrom. */
  total: number;
  /** Failures in [groupedFrom, to): what the groups are drawn from. */
  grouped: number;
}

export interface FailureQuery {
  from: number;
  to: number;
  limit: number;
  slots: number;
  /** Group at most this many of the newest failures (default MAX_GROUPED). */
  maxGrouped?: number;
}

interface Cell {
  status: number;
  errorType: string | null;
  model: string | null;
  slot: number;
  n: number;
  firstSeen: number;
  lastSeen: number;
  exampleId: number;
}

export function failureGroups(db: Db, q: FailureQuery): Promise<FailureReport> {
  const maxGrouped = q.maxGrouped ?? MAX_GROUPED;
  // One read transaction: every read sees the same snapshot, so counts add up.
  return db.transaction(async (tx): Promise<FailureReport> => {
    const window = { from: q.from, to: q.to };
    const total = (await tx.get<{ n: number }>(sql`SELECT COUNT(*) AS n FROM calls WHERE ${inWindow(window)}`))!.n;
    // The maxGrouped-th newest failure, found on the index alone; a tie at that instant may add a few more.
    const cutoff =
      total > maxGrouped
        ? (await tx.get<{ t: number }>(sql`SELECT created_at AS t FROM calls WHERE ${inWindow(window)} ORDER BY created_at DESC LIMIT 1 OFFSET ${maxGrouped - 1}`))!.t
        : q.from;
    const span = { from: cutoff, to: q.to };
    const slotMs = Math.max(1, Math.ceil((span.to - span.from) / q.slots));
    // One pass over the span: a row per group and slot, folded into groups below. GROUP BY puts
    // NULL error types and models in one group each, as the view wants. better-sqlite3 binds JS
    // numbers as REAL, so the slot division is cast back to an integer (PostgreSQL divides the
    // bigints as integers; both truncate the non-negative quotient alike).
    const cells = await tx.all<Cell>(
      sql`SELECT status, error_type AS "errorType", model, CAST((created_at - ${span.from}) / ${slotMs} AS INTEGER) AS slot, COUNT(*) AS n,
                MIN(created_at) AS "firstSeen", MAX(created_at) AS "lastSeen", MAX(id) AS "exampleId"
         FROM calls WHERE ${inWindow(span)}
         GROUP BY 1, 2, 3, 4`,
    );

    const byKey = new Map<string, FailureGroup>();
    let grouped = 0;
    for (const cell of cells) {
      grouped += cell.n;
      const key = groupKey(cell.status, cell.errorType, cell.model);
      let g = byKey.get(key);
      if (!g) {
        g = { status: cell.status, errorType: cell.errorType, model: cell.model, count: 0, firstSeen: cell.firstSeen, lastSeen: cell.lastSeen, exampleId: cell.exampleId, histogram: new Array<number>(q.slots).fill(0) };
        byKey.set(key, g);
      }
      g.count += cell.n;
      g.firstSeen = Math.min(g.firstSeen, cell.firstSeen);
      g.lastSeen = Math.max(g.lastSeen, cell.lastSeen);
      g.exampleId = Math.max(g.exampleId, cell.exampleId);
      if (cell.slot >= 0 && cell.slot < q.slots) g.histogram[cell.slot]! += cell.n;
    }
    // Ties end in the groups' own order, not the order the engine happened to group them in.
    const groups = [...byKey.values()].sort((a, b) => b.count - a.count || b.lastSeen - a.lastSeen || b.exampleId - a.exampleId).slice(0, q.limit);
    return { from: q.from, to: q.to, groupedFrom: cutoff, slotMs, groups, total, grouped };
  }, { snapshot: true });
}

function groupKey(status: number, errorType: string | null, model: string | null): string {
  return JSON.stringify([status, errorType, model]);
}
