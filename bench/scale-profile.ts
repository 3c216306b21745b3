import { spawn, type ChildProcess } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { loadavg, tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import pg from "pg";
import { createTestDatabase, startThrowawayPostgres } from "../test/pg/throwaway-postgres.ts";
import { startChild } from "./child-rpc.ts";
import { parentPid, processCpuSeconds } from "./proc-cpu.ts";
import { childrenCpu, sinceByRole, sumByRole, threadsByRole, type ByRole, type ThreadRole } from "./proc-threads.ts";
import { rateLoad } from "./rate-load.ts";
import { spreadLoad } from "./scale-load.ts";
import { ADMIN_TOKEN, recorderBatches } from "./scale-run.ts";
import { SCENARIOS } from "./scenarios.ts";
import { intEnv } from "./settings.ts";

// Where the CPU goes per call as instances are added (`npm run bench:scale-profile`). The same
// setup as bench:scale (N tollbooth processes on one durable PostgreSQL, every scheduler on,
// rollup every 2 s, JSON calls round-robin from this process, the fake upstream in its own), but
// instead of one throughput figure it prints, for each instance count:
// - idle: CPU of N instances with no calls, per thread role (serving, writer, readers, Node's
//   helpers) and PostgreSQL's, over BENCH_PROFILE_IDLE_SECONDS;
// - under load: µs of CPU per call of each thread role, of PostgreSQL's backends and its
//   auxiliary processes (WAL writer, checkpointer…), of this load generator and of the fake
//   upstream, context switches per call, commits and WAL flushes per call, and
//   pg_stat_statements' top statements.
// BENCH_PROFILE_RATE=<calls/s> sends an open-loop fixed rate (every setup serves the same calls,
// and none runs the machine out of CPU); 0 runs the closed loop of bench:scale.
// BENCH_PROFILE_TREES=<dir>,<dir> runs tollbooth from each of these checkouts in turn for every
// instance count (BENCH_PROFILE_ROUNDS times, alternating order), for a before/after comparison
// on the same machine at the same time; by default this checkout only.
// BENCH_PROFILE_CPU_PROF=<dir> starts each instance with --cpu-prof into that folder (one
// profile per thread, written when the instance exits).
// Run with: flock /tmp/tollbooth-bench.lock npm run bench:scale-profile

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, "..");
const seconds = intEnv(process.env, "BENCH_PROFILE_SECONDS", 15);
const idleSeconds = intEnv(process.env, "BENCH_PROFILE_IDLE_SECONDS", 10);
const warmupSeconds = intEnv(process.env, "BENCH_PROFILE_WARMUP_SECONDS", 3);
const connections = intEnv(process.env, "BENCH_SCALE_CONNECTIONS", 32);
const rate = intEnv(process.env, "BENCH_PROFILE_RATE", 0, 0);
const counts = (process.env.BENCH_PROFILE_INSTANCES ?? "1,2,4").split(",").map(Number);
const cpuProfDir = process.env.BENCH_PROFILE_CPU_PROF;
const trees = (process.env.BENCH_PROFILE_TREES ?? root).split(",");
const rounds = intEnv(process.env, "BENCH_PROFILE_ROUNDS", 1);
const extraEnv = Object.fromEntries(
  (process.env.BENCH_PROFILE_ENV ?? "")
    .split(",")
    .filter(Boolean)
    .map((kv) => kv.split("=") as [string, string]),
);
const started = performance.now();
const log = (msg: string) => process.stderr.write(`[profile ${((performance.now() - started) / 1000).toFixed(1).padStart(5)} s] ${msg}\n`);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const load = () => loadavg().map((x) => x.toFixed(1)).join(" ");

interface Instance {
  child: ChildProcess;
  origin: string;
  exited: Promise<void>;
}

/** tollbooth's entry point as a child process (with --cpu-prof when asked); resolves once it listens. */
async function startInstance(tree: string, env: Record<string, string>): Promise<Instance> {
  const flags = cpuProfDir ? ["--cpu-prof", `--cpu-prof-dir=${cpuProfDir}`] : [];
  const child = spawn(process.execPath, [...flags, "--import", "tsx", "server/main.ts"], {
    cwd: tree,
    env: { ...process.env, HOST: "127.0.0.1", PORT: "0", ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  let out = "";
  const origin = await new Promise<string>((resolve, reject) => {
    const onData = (d: Buffer) => {
      out += d.toString();
      const m = /listening on (http:\/\/\S+)/.exec(out);
      if (m) resolve(new URL(m[1]!).origin);
    };
    child.stdout!.on("data", onData);
    child.stderr!.on("data", onData);
    void exited.then(() => reject(new Error(`instance exited before listening:\n${out}`)));
  });
  return { child, origin, exited };
}

/** PostgreSQL's CPU split: backends of the benchmark's database, other backends, each auxiliary process type. */
function pgCpu(postmaster: number, database: string, exclude: Set<number>): Map<string, number> {
  const out = new Map<string, number>([["postmaster", processCpuSeconds(postmaster)]]);
  for (const [pid, { cpu, cmd }] of childrenCpu(postmaster)) {
    if (exclude.has(pid)) continue;
    // "postgres: tollbooth scale_4_… 127.0.0.1(40000) idle", or "postgres: walwriter "
    const kind = cmd.includes(` ${database} `) ? "backends" : cmd.replace(/^postgres: /, "").split(" ")[0] || "other";
    out.set(kind, (out.get(kind) ?? 0) + cpu);
  }
  return out;
}

const diff = (a: Map<string, number>, b: Map<string, number>) => new Map([...b].map(([k, v]) => [k, v - (a.get(k) ?? 0)]));

interface Counters {
  xactCommit: number;
  walSync: number;
  walWrite: number;
  walBytes: number;
}

async function counters(client: pg.Client, database: string): Promise<Counters> {
  const d = (await client.query(`SELECT xact_commit FROM pg_stat_database WHERE datname = $1`, [database])).rows[0];
  const w = (await client.query(`SELECT wal_sync, wal_write, wal_bytes FROM pg_stat_wal`)).rows[0];
  return { xactCommit: Number(d.xact_commit), walSync: Number(w.wal_sync), walWrite: Number(w.wal_write), walBytes: Number(w.wal_bytes) };
}

const ROLES: ThreadRole[] = ["serving", "writer", "readers", "helpers"];
const us = (cpuSeconds: number, calls: number) => ((cpuSeconds / calls) * 1e6).toFixed(0);

async function profile(tree: string, n: number, adminUrl: string, postmaster: number, upstreamPid: number, upstreamUrl: string): Promise<string[]> {
  const database = await createTestDatabase(adminUrl, `prof_${n}`);
  const dbName = new URL(database.url).pathname.slice(1);
  const dataDir = mkdtempSync(join(tmpdir(), "tollbooth-profile-"));
  const env = {
    DATABASE_URL: database.url,
    DATA_DIR: dataDir,
    ADMIN_TOKEN,
    UPSTREAM_BASE_URL: upstreamUrl,
    CRON_ENABLED: "true",
    ROLLUP_CRON: "*/2 * * * * *",
    LOG_LEVEL: "info",
    ...extraEnv,
  };
  const instances: Instance[] = [];
  const admin = new pg.Client({ connectionString: adminUrl.replace(/\/postgres$/, `/${dbName}`) });
  const lines: string[] = [`## ${n} instance${n > 1 ? "s" : ""}${trees.length > 1 ? ` from ${tree}` : ""}`];
  try {
    instances.push(await startInstance(tree, env));
    instances.push(...(await Promise.all(Array.from({ length: n - 1 }, () => startInstance(tree, env)))));
    await admin.connect();
    const adminPid = Number((await admin.query("SELECT pg_backend_pid() AS pid")).rows[0].pid);
    await admin.query("CREATE EXTENSION IF NOT EXISTS pg_stat_statements");
    const exclude = new Set([adminPid]);
    const pids = instances.map((i) => i.child.pid!);
    const threads = () => sumByRole(pids.map(threadsByRole));

    // Idle: every timer and poll running, no calls.
    await sleep(3_000);
    const idle0 = { t: threads(), pg: pgCpu(postmaster, dbName, exclude), at: performance.now() };
    await sleep(idleSeconds * 1000);
    const idleT = sinceByRole(idle0.t, threads());
    const idlePg = diff(idle0.pg, pgCpu(postmaster, dbName, exclude));
    const idleS = (performance.now() - idle0.at) / 1000;
    const coresIdle = (c: number) => `${(c / idleS).toFixed(3)}`;
    lines.push(
      `idle, cores busy over ${idleS.toFixed(0)} s: ${ROLES.map((r) => `${r} ${coresIdle(idleT[r].cpu)} (${idleT[r].threads} threads)`).join(", ")}; ` +
        `PostgreSQL ${[...idlePg].map(([k, v]) => `${k} ${coresIdle(v)}`).join(", ")}; ` +
        `wakeups/s ${ROLES.map((r) => `${r} ${((idleT[r].voluntarySwitches + idleT[r].involuntarySwitches) / idleS).toFixed(0)}`).join(", ")}`,
    );

    // Under load.
    const origins = instances.map((i) => i.origin);
    const gen = rate > 0 ? rateLoad(origins, SCENARIOS[0]!, rate) : spreadLoad(origins, SCENARIOS[0]!, connections);
    await sleep(warmupSeconds * 1000);
    await admin.query("SELECT pg_stat_statements_reset()");
    const b0 = (await Promise.all(origins.map(recorderBatches))).reduce((a, b) => a + b, 0);
    const c0 = await counters(admin, dbName);
    const t0 = threads();
    const pg0 = pgCpu(postmaster, dbName, exclude);
    const self0 = process.cpuUsage();
    const up0 = processCpuSeconds(upstreamPid);
    gen.startWindow();
    await sleep(seconds * 1000);
    const result = await gen.stop();
    const selfCpu = (() => {
      const u = process.cpuUsage(self0);
      return (u.user + u.system) / 1e6;
    })();
    const upCpu = processCpuSeconds(upstreamPid) - up0;
    const tl: ByRole = sinceByRole(t0, threads());
    const pgl = diff(pg0, pgCpu(postmaster, dbName, exclude));
    const c1 = await counters(admin, dbName);
    const batches = (await Promise.all(origins.map(recorderBatches))).reduce((a, b) => a + b, 0) - b0;
    const calls = result.completed;
    const tollbooth = ROLES.reduce((s, r) => s + tl[r].cpu, 0);
    const pgTotal = [...pgl.values()].reduce((a, b) => a + b, 0);
    lines.push(
      `load: ${(calls / result.seconds).toFixed(0)} calls/s (${rate > 0 ? `offered ${rate}, missed ${"missed" in result ? result.missed : 0}` : `closed loop, ${connections} connections`}), failed ${result.failed}${result.firstError ? ` (${result.firstError})` : ""}`,
      `µs CPU per call: tollbooth ${us(tollbooth, calls)} = ${ROLES.map((r) => `${r} ${us(tl[r].cpu, calls)}`).join(" + ")}`,
      `µs CPU per call: PostgreSQL ${us(pgTotal, calls)} = ${[...pgl].filter(([, v]) => v > 0).map(([k, v]) => `${k} ${us(v, calls)}`).join(" + ")}`,
      `µs CPU per call: load generator ${us(selfCpu, calls)}, fake upstream ${us(upCpu, calls)}`,
      `cores busy: tollbooth ${(tollbooth / result.seconds).toFixed(2)}, PostgreSQL ${(pgTotal / result.seconds).toFixed(2)}, load generator ${(selfCpu / result.seconds).toFixed(2)}, upstream ${(upCpu / result.seconds).toFixed(2)}`,
      `context switches per call (voluntary/involuntary): ${ROLES.map((r) => `${r} ${(tl[r].voluntarySwitches / calls).toFixed(2)}/${(tl[r].involuntarySwitches / calls).toFixed(2)}`).join(", ")}`,
      `recorder batches ${batches} (${(calls / batches).toFixed(1)} rows each); commits per call ${((c1.xactCommit - c0.xactCommit) / calls).toFixed(3)}; WAL flushes per call ${((c1.walSync - c0.walSync) / calls).toFixed(3)}; WAL bytes per call ${((c1.walBytes - c0.walBytes) / calls).toFixed(0)}`,
    );
    const top = await admin.query(
      `SELECT calls, total_exec_time, total_plan_time, rows, left(regexp_replace(query, '\\s+', ' ', 'g'), 110) AS q
       FROM pg_stat_statements JOIN pg_database d ON d.oid = dbid WHERE d.datname = $1 ORDER BY total_exec_time + total_plan_time DESC LIMIT 12`,
      [dbName],
    );
    lines.push("pg_stat_statements (window), by total time:", "| calls/s | ms/s exec | ms/s plan | rows/call | statement |", "| --- | --- | --- | --- | --- |");
    for (const r of top.rows) {
      lines.push(
        `| ${(Number(r.calls) / result.seconds).toFixed(1)} | ${(Number(r.total_exec_time) / result.seconds).toFixed(1)} | ${(Number(r.total_plan_time) / result.seconds).toFixed(1)} | ${(Number(r.rows) / Math.max(1, Number(r.calls))).toFixed(1)} | \`${r.q}\` |`,
      );
    }
    // Let the recorders drain before the next setup.
    await sleep(2_000);
    return lines;
  } finally {
    for (const i of instances) i.child.kill("SIGTERM");
    await Promise.race([Promise.all(instances.map((i) => i.exited)), sleep(15_000)]);
    for (const i of instances) i.child.kill("SIGKILL");
    await admin.end().catch(() => {});
    await database.drop();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

if (cpuProfDir) mkdirSync(cpuProfDir, { recursive: true });
const loadAtStart = load();
const upstream = await startChild<{ url: string }>(join(here, "upstream-child.ts"));
const postgres = await startThrowawayPostgres({
  durable: true,
  settings: ["shared_preload_libraries=pg_stat_statements", "pg_stat_statements.track_planning=on", "track_wal_io_timing=on"],
});
const out: string[] = [];
try {
  const admin = new pg.Client({ connectionString: postgres.adminUrl });
  await admin.connect();
  const pid = Number((await admin.query("SELECT pg_backend_pid() AS pid")).rows[0].pid);
  const postmaster = parentPid(pid)!;
  await admin.end();
  for (let round = 0; round < rounds; round++) {
    for (const n of counts) {
      for (const tree of round % 2 === 0 ? trees : [...trees].reverse()) {
        log(`round ${round + 1}: ${n} instance(s) from ${tree}`);
        const lines = await profile(tree, n, postgres.adminUrl, postmaster, upstream.pid, upstream.info.url);
        for (const l of lines) log(l);
        out.push(...lines, "");
      }
    }
  }
} finally {
  await postgres.stop();
  await upstream.stop();
}
process.stdout.write(`${out.join("\n")}\nload average ${loadAtStart} at start, ${load()} at end; ${seconds} s per setup${rate > 0 ? ` at ${rate} calls/s` : ""}\n`);
