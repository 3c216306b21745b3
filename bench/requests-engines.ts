import { connectDatabase } from "../server/db/connect.ts";
import type { Db } from "../server/db/database.ts";
import type { RequestFilters } from "../server/requests/filters.ts";
import { resolveKey } from "../server/requests/key-match.ts";
import { indexable } from "../server/requests/message-index.ts";
import { resolveModels } from "../server/requests/model-match.ts";
import { SEARCH_BUDGET, listRequests, listRequestsBounded } from "../server/requests/query.ts";
import { intEnv } from "./settings.ts";
import { percentile } from "./stats.ts";

// The first page of GET /api/requests on SQLite and PostgreSQL holding the same calls: what the
// route does (resolve the key and model filters, then listRequests, or listRequestsBounded for a
// 1–2 character text), timed in process, so the figures are the database's share of a request.
//
//   BENCH_REQUESTS_SQLITE=bench/out/spend-g2-10000000.db BENCH_REQUESTS_PG=postgres://…/db \
//     flock /tmp/tollbooth-bench.lock npx tsx bench/requests-engines.ts
//
// The PostgreSQL database must hold the same calls: migrated by tollbooth, then the SQLite file's
// calls copied in (sqlite3 -csv … "SELECT <columns> FROM calls" | psql … "COPY calls (<columns>)
// FROM STDIN WITH (FORMAT csv)", then ANALYZE). Either variable may be left out to time one engine.

const RUNS = intEnv(process.env, "BENCH_REQUESTS_RUNS", 200);
const DATA_END = Date.parse("2026-11-01T00:00:00Z");

const CASES: Record<string, Record<string, string>> = {
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

async function timeEngine(name: string, url: string): Promise<Map<string, { p50: number; p95: number; rows: number }>> {
  const db = await connectDatabase(url, { poolMax: 4, migrate: false });
  const out = new Map<string, { p50: number; p95: number; rows: number }>();
  try {
    for (const [label, given] of Object.entries(CASES)) {
      const rows = await firstPage(db, given); // warm the cache and the prepared statements
      const ms: number[] = [];
      for (let i = 0; i < RUNS; i++) {
        const t = performance.now();
        await firstPage(db, given);
        ms.push(performance.now() - t);
      }
      out.set(label, { p50: percentile(ms, 50), p95: percentile(ms, 95), rows });
      console.error(`${name} ${label}: p95 ${percentile(ms, 95).toFixed(2)} ms`);
    }
  } finally {
    await db.close();
  }
  return out;
}

const engines = Object.entries({ SQLite: process.env.BENCH_REQUESTS_SQLITE, PostgreSQL: process.env.BENCH_REQUESTS_PG }).filter((e): e is [string, string] => !!e[1]);
if (engines.length === 0) throw new Error("set BENCH_REQUESTS_SQLITE and/or BENCH_REQUESTS_PG");
const results = [];
for (const [name, url] of engines) results.push([name, await timeEngine(name, url)] as const);

const fmt = (x: number) => x.toFixed(2);
console.log(`First page of GET /api/requests (50 rows), in-process, ${RUNS} runs per case after one warm-up; ms\n`);
console.log(`| case | ${results.map(([n]) => `${n} p50 | ${n} p95 | rows`).join(" | ")} |`);
console.log(`|---|${results.map(() => "---:|---:|---:").join("|")}|`);
for (const label of Object.keys(CASES)) {
  console.log(`| ${label} | ${results.map(([, r]) => `${fmt(r.get(label)!.p50)} | ${fmt(r.get(label)!.p95)} | ${r.get(label)!.rows}`).join(" | ")} |`);
}
