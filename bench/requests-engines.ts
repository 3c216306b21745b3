import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { connectDatabase } from "../server/db/connect.ts";
import { ensurePgSpendCopy } from "./pg-data-copy.ts";
import { REQUEST_CASES, timeRequestCases, type Timing } from "./requests-first-page.ts";
import { intEnv } from "./settings.ts";
import { ensureSpendDb } from "./spend-data.ts";

// The first page of GET /api/requests on SQLite and PostgreSQL holding the same calls, timed in
// process (requests-first-page.ts), so the figures are the database's share of a request.
//
//   flock /tmp/tollbooth-bench.lock npm run bench:requests
//
// By default on the cached 10M-call data set (spend-data.ts) and its PostgreSQL copy
// (pg-data-copy.ts), each built first if missing. BENCH_REQUESTS_SQLITE=<file> and/or
// BENCH_REQUESTS_PG=postgres://… time other databases instead (only the engines named).

const RUNS = intEnv(process.env, "BENCH_REQUESTS_RUNS", 200);
const log = (msg: string) => process.stderr.write(`${msg}\n`);

let engines = Object.entries({ SQLite: process.env.BENCH_REQUESTS_SQLITE, PostgreSQL: process.env.BENCH_REQUESTS_PG }).filter((e): e is [string, string] => !!e[1]);
let stop = async () => {};
if (engines.length === 0) {
  const data = await ensureSpendDb(join(dirname(fileURLToPath(import.meta.url)), "out"), intEnv(process.env, "BENCH_CALLS", 10_000_000), log);
  const copy = await ensurePgSpendCopy(data.path, log);
  stop = copy.stop;
  engines = [
    ["SQLite", data.path],
    ["PostgreSQL", copy.url],
  ];
}
const results: [string, Map<string, Timing>][] = [];
try {
  for (const [name, url] of engines) {
    const db = await connectDatabase(url, { poolMax: 4, migrate: false });
    try {
      results.push([name, await timeRequestCases(db, RUNS, log)]);
    } finally {
      await db.close();
    }
  }
} finally {
  await stop();
}

const fmt = (x: number) => x.toFixed(2);
console.log(`First page of GET /api/requests (50 rows), in-process, ${RUNS} runs per case after one warm-up; ms\n`);
console.log(`| case | ${results.map(([n]) => `${n} p50 | ${n} p95 | rows`).join(" | ")} |`);
console.log(`|---|${results.map(() => "---:|---:|---:").join("|")}|`);
for (const label of Object.keys(REQUEST_CASES)) {
  console.log(`| ${label} | ${results.map(([, r]) => `${fmt(r.get(label)!.p50)} | ${fmt(r.get(label)!.p95)} | ${r.get(label)!.rows}`).join(" | ")} |`);
}
