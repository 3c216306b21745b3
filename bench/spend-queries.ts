import type Database from "better-sqlite3";
import { DateTime } from "luxon";
import { formatNanoAsUsd } from "../server/money.ts";
import type { MeasuresJson } from "../server/usage/usage-json.ts";
import { periodsBetween } from "../server/time.ts";
import type { Prng } from "../test/usage/prng.ts";
import { DATA_END, MODELS, TEAMS } from "./spend-data.ts";

// What the spend benchmark asks: 30-day /api/usage windows in several zones, the same figures
// summed straight from raw calls (the baseline), and /api/requests first pages with filters.

// Whole-hour, :30 and :45 offsets, and two zones with DST.
const ZONES = ["UTC", "Europe/London", "America/New_York", "Asia/Kolkata", "Asia/Kathmandu", "Asia/Tokyo"];

export interface UsageWindow {
  tz: string;
  from: number;
  to: number;
  /** Query string of /api/usage without group_by. */
  query: string;
}

/** `n` 30-day windows (local midnight to local midnight) ending 0–59 days before the data ends. */
export function usageWindows(n: number, r: Prng): UsageWindow[] {
  return Array.from({ length: n }, (_, i) => {
    const tz = ZONES[i % ZONES.length]!;
    const first = DateTime.fromMillis(DATA_END, { zone: tz }).startOf("day").minus({ days: 30 + r.int(0, 59) });
    const last = first.plus({ days: 30 });
    return { tz, from: first.toMillis(), to: last.toMillis(), query: new URLSearchParams({ from: first.toISODate()!, to: last.toISODate()!, tz }).toString() };
  });
}

/** A day × model answer as comparable strings: "day|model" → "requests errors prompt completion cost unpriced". */
export type DayModelFigures = Map<string, string>;

type ApiRow = MeasuresJson & { group: { day: string; model: string | null } };

export function apiFigures(body: { rows: ApiRow[] }): DayModelFigures {
  return new Map(
    body.rows.map((r) => [
      `${r.group.day}|${r.group.model ?? ""}`,
      `${r.requests} ${r.errors} ${r.prompt_tokens} ${r.completion_tokens} ${r.cost_usd} ${r.unpriced_requests}`,
    ]),
  );
}

/**
 * The baseline: the same day × model figures as one GROUP BY over raw calls, each local day an
 * index range on calls.created_at. It is what a dashboard without rollups would run.
 */
export function rawDayModel(client: Database.Database, w: UsageWindow): DayModelFigures {
  const periods = periodsBetween("day", w.from, w.to, w.tz, 100);
  const values = periods.map((p, i) => `(${i}, ${p.start}, ${p.end})`).join(", ");
  const rows = client
    .prepare(
      `WITH periods(p, ps, pe) AS (VALUES ${values})
       SELECT p, COALESCE(model, '') AS model, COUNT(*) AS requests,
              SUM(CASE WHEN status >= 400 OR error_type IS NOT NULL THEN 1 ELSE 0 END) AS errors,
              SUM(COALESCE(prompt_tokens, 0)) AS prompt, SUM(COALESCE(completion_tokens, 0)) AS completion,
              SUM(COALESCE(cost_nano, 0)) AS cost, SUM(CASE WHEN model IS NOT NULL AND cost_nano IS NULL THEN 1 ELSE 0 END) AS unpriced
       FROM periods CROSS JOIN calls WHERE calls.created_at >= periods.ps AND calls.created_at < periods.pe
       GROUP BY p, 2`,
    )
    .safeIntegers(true)
    .all() as { p: bigint; model: string; requests: bigint; errors: bigint; prompt: bigint; completion: bigint; cost: bigint; unpriced: bigint }[];
  return new Map(
    rows.map((r) => [
      `${periods[Number(r.p)]!.label}|${r.model}`,
      `${r.requests} ${r.errors} ${r.prompt} ${r.completion} ${formatNanoAsUsd(r.cost)} ${r.unpriced}`,
    ]),
  );
}

/** Keys whose figures differ (or exist on one side only). */
export function differences(a: DayModelFigures, b: DayModelFigures): string[] {
  const keys = new Set([...a.keys(), ...b.keys()]);
  return [...keys].filter((k) => a.get(k) !== b.get(k));
}

export interface RequestsFilter {
  name: string;
  query: string;
}

/** The request explorer's filter combinations (status=error, model, team, and their pairs and triple). */
export function requestsFilters(n: number, r: Prng): RequestsFilter[] {
  const shapes = [["status"], ["model"], ["team"], ["status", "model"], ["status", "team"], ["model", "team"], ["status", "model", "team"]];
  return Array.from({ length: n }, (_, i) => {
    const shape = shapes[i % shapes.length]!;
    const params = new URLSearchParams();
    if (shape.includes("status")) params.set("status", "error");
    // Models by rank: the popular ones and the rare tail alike.
    if (shape.includes("model")) params.set("model", MODELS[r.int(0, MODELS.length - 1)]![0]);
    if (shape.includes("team")) params.set("team", TEAMS[r.int(0, TEAMS.length - 1)]!);
    return { name: shape.join("+"), query: params.toString() };
  });
}

/**
 * Texts for /api/requests?q= (the data set's messages read "upstream said <status>: request
 * failed" or "…: error event in stream"): none, one status's (0.1–1.2 % of calls), every failure's,
 * and the same within one team. A text in at most 5,000 messages is read from the message index;
 * a commoner one is met by walking the newest failures (server/requests/query.ts).
 */
export const SEARCH_QUERIES: readonly { name: string; query: string }[] = [
  { name: "timeout (no match)", query: "q=timeout" },
  { name: "no such error (no match)", query: "q=no+such+error" },
  { name: "said 502 (10k calls)", query: "q=said+502" },
  { name: "error event (10k calls)", query: "q=error+event" },
  { name: "said 429 (120k calls)", query: "q=said+429" },
  { name: "request failed (300k calls)", query: "q=request+failed" },
  { name: "said 502, one team", query: `q=said+502&team=${TEAMS[1]}` },
  { name: "timeout, last 7 days", query: `q=timeout&from=${new Date(DATA_END - 7 * 86_400_000).toISOString()}` },
];
