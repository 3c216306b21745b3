import { mkdirSync, writeFileSync } from "node:fs";
import { cpus, loadavg } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import pg from "pg";
import { createTestDatabase, startThrowawayPostgres } from "../test/pg/throwaway-postgres.ts";
import { startChild } from "./child-rpc.ts";
import { parentPid } from "./proc-cpu.ts";
import { meanOfRounds, scaleTable } from "./scale-report.ts";
import { measureInstances, type ScaleResult } from "./scale-run.ts";
import { intEnv } from "./settings.ts";

// `npm run bench:scale`: tollbooth on 1, 2 and 4 instances sharing one PostgreSQL, and on one
// SQLite instance for comparison. Each setup gets a fresh database and the same load (closed
// loop, BENCH_SCALE_CONNECTIONS clients, JSON calls spread round-robin over the instances) for the
// same BENCH_SCALE_SECONDS. The fake upstream runs in its own process; PostgreSQL runs with
// production durability (fsync and synchronous commit on). Prints one markdown table and writes
// it to bench/out/scale.md. It measures; it does not fail on a figure.
// Run with: flock /tmp/tollbooth-bench.lock npm run bench:scale

const here = dirname(fileURLToPath(import.meta.url));
const seconds = intEnv(process.env, "BENCH_SCALE_SECONDS", 15);
const warmupSeconds = intEnv(process.env, "BENCH_SCALE_WARMUP_SECONDS", 3);
const connections = intEnv(process.env, "BENCH_SCALE_CONNECTIONS", 32);
const counts = (process.env.BENCH_SCALE_INSTANCES ?? "1,2,4").split(",").map(Number);
const rounds = intEnv(process.env, "BENCH_SCALE_ROUNDS", 2);
const started = performance.now();
const log = (msg: string) => process.stderr.write(`[scale ${((performance.now() - started) / 1000).toFixed(1).padStart(5)} s] ${msg}\n`);
const load = () => loadavg().map((x) => x.toFixed(1)).join(" ");
const loadAtStart = load();

const upstream = await startChild<{ url: string }>(join(here, "upstream-child.ts"));
const postgres = await startThrowawayPostgres({ durable: true });
/** Setups in run order: SQLite first, then PostgreSQL by instance count; odd rounds run them backwards. */
const setups = [0, ...counts];
const bySetup = new Map<number, ScaleResult[]>(setups.map((n) => [n, []]));
let version = "?";
try {
  // The postmaster is the parent of any backend: its process tree is all of PostgreSQL's CPU.
  const admin = new pg.Client({ connectionString: postgres.adminUrl });
  await admin.connect();
  const { pid, v } = (await admin.query<{ pid: number; v: string }>("SELECT pg_backend_pid() AS pid, current_setting('server_version') AS v")).rows[0]!;
  // Read while the backend lives: once the client ends, its /proc entry goes.
  const postmasterPid = parentPid(pid);
  await admin.end();
  if (postmasterPid === null) throw new Error("could not read the postmaster's pid from /proc");
  version = v;
  const opts = { upstreamUrl: upstream.info.url, connections, warmupSeconds, seconds, log };

  for (let round = 0; round < rounds; round++) {
    for (const n of round % 2 === 0 ? setups : [...setups].reverse()) {
      log(`round ${round + 1}: ${n === 0 ? "SQLite, 1 instance" : `PostgreSQL, ${n} instance(s)`}`);
      let result: ScaleResult;
      if (n === 0) result = await measureInstances({ kind: "sqlite" }, { ...opts, instances: 1 });
      else {
        const database = await createTestDatabase(postgres.adminUrl, `scale_${n}`);
        try {
          result = await measureInstances({ kind: "postgres", url: database.url, postmasterPid }, { ...opts, instances: n });
        } finally {
          await database.drop();
        }
      }
      log(`    ${Math.round(result.load.completed / result.load.seconds)} calls/s, ${result.batches} recorder batches, max lag ${result.maxLagSeconds.toFixed(1)} s`);
      bySetup.get(n)!.push(result);
    }
  }
} finally {
  await postgres.stop();
  await upstream.stop();
}

const table = scaleTable(setups.map((n) => meanOfRounds(bySetup.get(n)!)));
const context =
  `${new Date().toISOString().slice(0, 10)} · node ${process.version} · PostgreSQL ${version} · ${cpus().length} CPU(s) · ` +
  `${rounds} round(s) of ${seconds} s per setup after ${warmupSeconds} s warm-up, figures are the mean of the rounds · ${connections} connections · load average ${loadAtStart} at start, ${load()} at end · ` +
  `${((performance.now() - started) / 1000).toFixed(0)} s in total`;
process.stdout.write(`${table}\n\n${context}\n`);
mkdirSync(join(here, "out"), { recursive: true });
writeFileSync(join(here, "out", "scale.md"), `# npm run bench:scale\n\n${context}\n\n${table}\n`);
