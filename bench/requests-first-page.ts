import type { Db } from "../server/db/database.ts";
import type { RequestFilters } from "../server/requests/filters.ts";
import { resolveKey } from "../server/requests/key-match.ts";
import { indexable } from "../server/requests/message-index.ts";
import { resolveModels } from "../server/requests/model-match.ts";
import { SEARCH_BUDGET, listRequests, listRequestsBounded } from "../server/requests/query.ts";
import { DATA_END } from "./spend-data.ts";
import { percentile } from "./stats.ts";

// The first page of GET /api/requests as the route reads it (resolve the key and model filters,
// then listRequests, or listRequestsBounded for a 1–2 character text), timed in process on one
// engine, so the figures are the database's share of a request. Used by requests-engines.ts and
// usage-engines.ts on the cached data set (spend-data.ts) and its PostgreSQL copy (pg-data-copy.ts).

/** Query strings of /api/requests, by label. */
export const REQUEST_CASES: Record<string, Record<string, string>> = {
  "no filter": {},
  "status=error": { status: "error" },
  "status=429": { status: "429" },
  "status=ok": { status: "ok" },
  "model=70b": { model: "70b" },
  "team=ads": { team: "ads" },
  "key=..568d": { key: "000000000000..568d" },
  "from=24h ago": { from: String(DATA_END - 86_400_000) },
  "one day, errors": { from: String(DATA_END - 7 * 86_400_000), to: String(DATA_END - 6 * 86_400_000), status: "error" },
  "user (no index)": { user: "user-007" },
  "q common word": { q: "stream" },
  "q 502": { q: "502" },
  "q no match": { q: "zzqx nothing" },
  "q 2 chars": { q: "zq" },
};

/** One first page, as the route reads it; the number of rows. */
async function firstPage(db: Db, given: Record<string, string>): Promise<number> {
  const f: RequestFilters = {
    ...(given.status ? { status: given.status === "ok" || given.status === "error" ? given.status : Number(given.status) } : {}),
    ...(given.team ? { team: given.team } : {}),
    ...(given.user ? { user: given.user } : {}),
    ...(given.q ? { q: given.q } : {}),
    ...(given.from ? { from: Number(given.from) } : {}),
    ...(given.to ? { to: Number(given.to) } : {}),
    ...(given.key ? { key: await resolveKey(db, given.key) } : {}),
    ...(given.model ? { model: given.model, models: await resolveModels(db, given.model) } : {}),
  };
  const page = f.q !== undefined && !indexable(f.q) ? await listRequestsBounded(db, f, SEARCH_BUDGET) : await listRequests(db, f);
  return page.data.length;
}

export interface Timing {
  p50: number;
  p95: number;
  rows: number;
}

/** Each case `runs` times after one warm-up (cache, prepared statements), one at a time. */
export async function timeRequestCases(db: Db, runs: number, log: (msg: string) => void): Promise<Map<string, Timing>> {
  const out = new Map<string, Timing>();
  for (const [label, given] of Object.entries(REQUEST_CASES)) {
    const rows = await firstPage(db, given);
    const ms: number[] = [];
    for (let i = 0; i < runs; i++) {
      const t = performance.now();
      await firstPage(db, given);
      ms.push(performance.now() - t);
    }
    out.set(label, { p50: percentile(ms, 50), p95: percentile(ms, 95), rows });
    log(`${db.dialect} /api/requests ${label}: p95 ${percentile(ms, 95).toFixed(2)} ms`);
  }
  return out;
}
