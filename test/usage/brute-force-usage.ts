import { sql } from "drizzle-orm";
import { DateTime } from "luxon";
import { expect } from "vitest";
import type { Db } from "../../server/db/open.ts";
import type { MeasuresJson, UsageRowJson } from "../../server/usage/usage-json.ts";

// An independent oracle for /api/usage: reads raw call rows and sums them in JS with BigInt,
// labelling each call's calendar period straight from its created_at with luxon. It shares no
// code with server/spend, so agreement to the nano-dollar means the rollups, the fresh tail and
// the period joins are right.

export interface RawCall {
  id: number;
  createdAt: number;
  model: string | null;
  keyId: string | null;
  team: string | null;
  project: string | null;
  user: string | null;
  status: number;
  errorType: string | null;
  promptTokens: number | null;
  completionTokens: number | null;
  costNano: number | null;
}

/** Every stored call, oldest id first (on either engine). */
export function snapshotCalls(db: Db): Promise<RawCall[]> {
  return db.all<RawCall>(
    sql`SELECT id, created_at AS "createdAt", model, key_id AS "keyId", team, project, "user" AS "user", status, error_type AS "errorType",
              prompt_tokens AS "promptTokens", completion_tokens AS "completionTokens", cost_nano AS "costNano" FROM calls ORDER BY id`,
  );
}

export interface Query {
  from: number;
  to: number;
  tz: string;
  groupBy: string[];
  filter?: { team?: string; project?: string; model?: string };
}

/** What the API answers, in a comparable form: rows keyed by JSON of their group. */
export type Expected = Map<string, { requests: number; errors: number; prompt_tokens: number; completion_tokens: number; cost_usd: string; unpriced_requests: number }>;

interface Sums {
  requests: bigint;
  errors: bigint;
  prompt: bigint;
  completion: bigint;
  cost: bigint;
  unpriced: bigint;
}

const CALENDAR = new Set(["hour", "day", "week", "month"]);

function dimValue(c: RawCall, key: string): string {
  switch (key) {
    case "model":
      return c.model ?? "";
    case "key":
      return c.keyId ?? "";
    case "team":
      return c.team ?? "";
    case "project":
      return c.project ?? "";
    case "user":
      return c.user ?? "";
    case "status":
      return c.status >= 100 && c.status < 600 ? `${Math.floor(c.status / 100)}xx` : "other";
  }
  throw new Error(`unknown key ${key}`);
}

function calendarLabel(ms: number, unit: string, tz: string): string {
  const dt = DateTime.fromMillis(ms, { zone: tz });
  if (unit === "day") return dt.toFormat("yyyy-MM-dd");
  if (unit === "month") return dt.toFormat("yyyy-MM");
  if (unit === "week") return dt.minus({ days: dt.weekday - 1 }).toFormat("yyyy-MM-dd");
  return dt.startOf("hour").toFormat("yyyy-MM-dd'T'HH:mmZZ");
}

function formatNano(n: bigint): string {
  const s = n.toString().padStart(10, "0");
  return `${s.slice(0, -9)}.${s.slice(-9)}`;
}

function add(s: Sums, c: RawCall): void {
  s.requests += 1n;
  s.errors += c.status >= 400 || c.errorType !== null ? 1n : 0n;
  s.prompt += BigInt(c.promptTokens ?? 0);
  s.completion += BigInt(c.completionTokens ?? 0);
  s.cost += BigInt(c.costNano ?? 0);
  s.unpriced += c.model !== null && c.costNano === null ? 1n : 0n;
}

const zero = (): Sums => ({ requests: 0n, errors: 0n, prompt: 0n, completion: 0n, cost: 0n, unpriced: 0n });

export function bruteForceUsage(calls: RawCall[], q: Query, topN: number): { rows: Expected; totals: Sums } {
  const f = q.filter ?? {};
  const inRange = calls.filter(
    (c) =>
      c.createdAt >= q.from &&
      c.createdAt < q.to &&
      (f.team === undefined || c.team === f.team) &&
      (f.project === undefined || c.project === f.project) &&
      (f.model === undefined || c.model === f.model),
  );
  // Top N per dimension by cost, then requests, then value; the rest fold into "(other)".
  const keep = new Map<string, Set<string> | null>();
  for (const key of q.groupBy.filter((k) => !CALENDAR.has(k))) {
    const per = new Map<string, Sums>();
    for (const c of inRange) {
      const v = dimValue(c, key);
      const s = per.get(v) ?? zero();
      add(s, c);
      per.set(v, s);
    }
    const ranked = [...per.entries()].sort(
      ([va, a], [vb, b]) => (a.cost !== b.cost ? (a.cost > b.cost ? -1 : 1) : a.requests !== b.requests ? (a.requests > b.requests ? -1 : 1) : va < vb ? -1 : va > vb ? 1 : 0),
    );
    keep.set(key, ranked.length > topN ? new Set(ranked.slice(0, topN).map(([v]) => v)) : null);
  }
  const groups = new Map<string, Sums>();
  const totals = zero();
  for (const c of inRange) {
    const group: Record<string, string | null> = {};
    for (const key of q.groupBy) {
      if (CALENDAR.has(key)) group[key] = calendarLabel(c.createdAt, key, q.tz);
      else {
        const v = dimValue(c, key);
        const kept = keep.get(key);
        group[key] = kept && !kept.has(v) ? "(other)" : v === "" ? null : v;
      }
    }
    const id = JSON.stringify(group);
    const s = groups.get(id) ?? zero();
    add(s, c);
    groups.set(id, s);
    add(totals, c);
  }
  const rows: Expected = new Map();
  for (const [id, s] of groups) rows.set(id, json(s));
  return { rows, totals };
}

function json(s: Sums) {
  return {
    requests: Number(s.requests),
    errors: Number(s.errors),
    prompt_tokens: Number(s.prompt),
    completion_tokens: Number(s.completion),
    cost_usd: formatNano(s.cost),
    unpriced_requests: Number(s.unpriced),
  };
}

/** The six measures of an answer row or of its totals (without group and other). */
export function measuresOf(r: MeasuresJson): MeasuresJson {
  const { requests, errors, prompt_tokens, completion_tokens, cost_usd, unpriced_requests } = r;
  return { requests, errors, prompt_tokens, completion_tokens, cost_usd, unpriced_requests };
}

function sortedEntries<V>(m: Map<string, V>): [string, V][] {
  return [...m.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
}

/** An /api/usage answer equals the oracle's: the same rows by group and the same totals, to the nano-dollar. */
export function expectOracleAnswer(body: { rows: UsageRowJson[]; totals: MeasuresJson }, expected: ReturnType<typeof bruteForceUsage>, context: string): void {
  const actual = new Map(body.rows.map((row) => [JSON.stringify(row.group), measuresOf(row)]));
  expect(sortedEntries(actual), context).toEqual(sortedEntries(expected.rows));
  expect(measuresOf(body.totals), context).toEqual(json(expected.totals));
}
