import { sql } from "drizzle-orm";
import { readFileSync } from "node:fs";
import { cpus, loadavg } from "node:os";
import { connectDatabase } from "../server/db/connect.ts";
import { createLogger } from "../server/log.ts";
import { PriceBook } from "../server/prices/price-book.ts";
import { Recorder } from "../server/recorder/recorder.ts";
import { createTestDatabase, startThrowawayPostgres } from "../test/pg/throwaway-postgres.ts";
import { median } from "./stats.ts";
import { makeRecords } from "./rows.ts";
import { intEnv } from "./settings.ts";

// `npm run bench:recorder-pg`: the Recorder's sustained write rate into PostgreSQL from one
// process, as the writer thread runs it: production-shaped rows (bench/rows.ts: ~3 % failures
// with bodies), priced per row from the seeded catalog, the catalog checked before each batch,
// batches of RECORDER_BATCH_SIZE's default, on a recorder pool of 1 connection (one batch at a
// time) and of 2 (two in flight: what PG_POOL_MAX's default gives the recorder). A throwaway
// server with production durability (fsync and synchronous commit on), a fresh database per
// measurement, the pool sizes alternating so machine noise hits each alike. Rows are enqueued in
// chunks of BENCH_RECORDER_CHUNK and each chunk flushed, standing in for what piles up between
// flushes under heavy load. Run with: flock /tmp/tollbooth-bench.lock npm run bench:recorder-pg

const rows = intEnv(process.env, "BENCH_RECORDER_ROWS", 200_000);
const chunk = intEnv(process.env, "BENCH_RECORDER_CHUNK", 20_000);
const runs = intEnv(process.env, "BENCH_RECORDER_RUNS", 3);
const BATCH = 500; // RECORDER_BATCH_SIZE default
const POOLS = [1, 2];

const fmt = (x: number) => `${Math.round(x).toLocaleString("en-US")} rows/s`;
const server = await startThrowawayPostgres({ durable: true });
const rates = new Map<number, number[]>(POOLS.map((p) => [p, []]));
const perCpu = new Map<number, number[]>(POOLS.map((p) => [p, []]));
let version = "?";

/** CPU seconds a process has used (user + system), from /proc (Linux). */
function cpuSeconds(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]!.split(" ");
  return (Number(fields[11]) + Number(fields[12])) / 100; // utime, stime in clock ticks (USER_HZ = 100)
}

interface Measured {
  rate: number;
  slowestChunk: number;
  nodeCpuUsPerRow: number;
  backendCpuUsPerRow: number;
}

async function measure(pool: number): Promise<Measured> {
  const database = await createTestDatabase(server.adminUrl, `bench_recorder_${pool}`);
  const db = await connectDatabase(database.url, { poolMax: pool });
  try {
    version = (await db.get<{ v: string }>(sql`SELECT current_setting('server_version') AS v`))!.v;
    const prices = new PriceBook(db);
    const recorder = new Recorder(db, {
      batchSize: BATCH,
      flushMs: 50,
      log: createLogger("error"),
      priceCall: (call) => prices.costOf(call),
      beforeBatch: () => prices.refresh(),
    });
    // The pool's connections opened before the clock starts (at once, so each is its own), and
    // their backends' CPU read around the run.
    const backends = await Promise.all(
      Array.from({ length: pool }, async () => (await db.get<{ pid: number }>(sql`SELECT pg_backend_pid() AS pid, pg_sleep(0.1)`))!.pid),
    );
    if (new Set(backends).size !== pool) throw new Error(`expected ${pool} backends, got ${backends.join(", ")}`);
    const backendCpu = () => backends.reduce((sum, pid) => sum + cpuSeconds(pid), 0);
    const chunks = Array.from({ length: Math.floor(rows / chunk) }, (_, i) => makeRecords(chunk, Date.now() + i * chunk));
    const chunkRates: number[] = [];
    const cpu0 = { node: process.cpuUsage(), backend: backendCpu() };
    const t0 = performance.now();
    for (const records of chunks) {
      const c0 = performance.now();
      for (const r of records) recorder.enqueue(r);
      if (!(await recorder.flush(true))) throw new Error(`flush failed: ${recorder.lastError}`);
      chunkRates.push(chunk / ((performance.now() - c0) / 1000));
    }
    const seconds = (performance.now() - t0) / 1000;
    const cpu = process.cpuUsage(cpu0.node);
    const backendSeconds = backendCpu() - cpu0.backend;
    const written = Math.floor(rows / chunk) * chunk;
    const { n } = (await db.get<{ n: number }>(sql`SELECT COUNT(*) AS n FROM calls WHERE cost_nano IS NOT NULL OR status >= 400`))!;
    if (n !== written) throw new Error(`pool ${pool}: the table holds ${n} priced or failed rows, expected ${written}`);
    return {
      rate: written / seconds,
      slowestChunk: Math.min(...chunkRates),
      nodeCpuUsPerRow: (cpu.user + cpu.system) / written,
      backendCpuUsPerRow: (backendSeconds * 1e6) / written,
    };
  } finally {
    await db.close();
    await database.drop();
  }
}

try {
  for (let run = 0; run < runs; run++) {
    const order = run % 2 === 0 ? POOLS : [...POOLS].reverse();
    for (const pool of order) {
      const m = await measure(pool);
      rates.get(pool)!.push(m.rate);
      const rowsPerCpuSecond = 1e6 / (m.nodeCpuUsPerRow + m.backendCpuUsPerRow);
      perCpu.get(pool)!.push(rowsPerCpuSecond);
      process.stdout.write(
        `run ${run + 1} recorder pool ${pool}: ${fmt(m.rate)} (slowest chunk ${fmt(m.slowestChunk)}) · CPU µs per row: node ${m.nodeCpuUsPerRow.toFixed(1)}, ` +
          `postgres backends ${m.backendCpuUsPerRow.toFixed(1)} → ${Math.round(rowsPerCpuSecond).toLocaleString("en-US")} rows per CPU-second\n`,
      );
    }
  }
} catch (err) {
  process.stderr.write(`${(err as Error).stack ?? err}\n`);
  process.exitCode = 1;
} finally {
  await server.stop();
}
for (const [pool, xs] of rates) {
  if (xs.length > 0) process.stdout.write(`median recorder pool ${pool}: ${fmt(median(xs))}, ${Math.round(median(perCpu.get(pool)!)).toLocaleString("en-US")} rows per CPU-second\n`);
}
process.stdout.write(
  `${rows.toLocaleString("en-US")} rows per run in chunks of ${chunk.toLocaleString("en-US")}, batches of ${BATCH} · PostgreSQL ${version} (fsync on) · ` +
    `node ${process.version} · ${cpus().length} CPU(s) · load average ${loadavg().map((x) => x.toFixed(1)).join(" ")}\n`,
);
