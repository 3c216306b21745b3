import { readFileSync } from "node:fs";
import { cpus, loadavg } from "node:os";
import { openPostgres } from "../server/db/postgres.ts";
import { createTestDatabase, startThrowawayPostgres } from "../test/pg/throwaway-postgres.ts";
import { writeCallBatch } from "../server/recorder/pg-insert.ts";
import { type BatchWriter, copyWriter, valuesWriter } from "./pg-insert-writers.ts";
import { makeRecords } from "./rows.ts";
import { intEnv } from "./settings.ts";

// Recorder batches into PostgreSQL from one process: multi-row INSERT … VALUES, INSERT … SELECT
// FROM unnest(arrays) and COPY into a staging table, each writing BENCH_PG_ROWS production-shaped
// rows (bench/rows.ts) in batches of BENCH_PG_BATCH, one transaction per batch, on
// BENCH_PG_CONNECTIONS connections (1: one recorder writing one batch at a time; 2: two batches in
// flight, the server working on one while node encodes the next). A throwaway server with production durability (fsync and
// synchronous commit on), a fresh database per run, the methods alternating so machine noise
// hits each alike. Run with: flock /tmp/tollbooth-bench.lock npx tsx bench/pg-insert-main.ts

const rows = intEnv(process.env, "BENCH_PG_ROWS", 200_000);
const batchSize = intEnv(process.env, "BENCH_PG_BATCH", 500);
const runs = intEnv(process.env, "BENCH_PG_RUNS", 3);
const connections = intEnv(process.env, "BENCH_PG_CONNECTIONS", 1);
const WRITERS: Record<string, BatchWriter> = { values: valuesWriter, unnest: (client, batch) => writeCallBatch(client, batch), copy: copyWriter };

const server = await startThrowawayPostgres({ durable: true });
let version = "?";
const fmt = (x: number) => Math.round(x).toLocaleString("en-US");
/** CPU seconds a process has used (user + system), from /proc (Linux). */
function cpuSeconds(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]!.split(" ");
  return (Number(fields[11]) + Number(fields[12])) / 100; // utime, stime in clock ticks (USER_HZ = 100)
}
const perCpu: Record<string, number[]> = Object.fromEntries(Object.keys(WRITERS).map((k) => [k, []]));
const bytesPerCall: Record<string, number[]> = Object.fromEntries(Object.keys(WRITERS).map((k) => [k, []]));
const rates: Record<string, number[]> = Object.fromEntries(Object.keys(WRITERS).map((k) => [k, []]));
try {
  for (let run = 0; run < runs; run++) {
    for (const [name, write] of Object.entries(WRITERS)) {
      const database = await createTestDatabase(server.adminUrl, `bench_${name}`);
      const { db } = await openPostgres(database.url, { poolMax: connections });
      version = (await db.$client.query<{ v: string }>("SELECT current_setting('server_version') AS v")).rows[0]!.v;
      // Calls only: bodies (3 % of rows) are written the same way whichever method writes the calls.
      const records = makeRecords(rows, Date.now()).map(({ call }) => ({ call }));
      const clients = await Promise.all(Array.from({ length: connections }, () => db.$client.connect()));
      const backends: number[] = [];
      for (const client of clients) {
        client.on("error", () => {}); // the server's shutdown after a failure must not hide it
        backends.push((await client.query<{ pid: number }>("SELECT pg_backend_pid() AS pid")).rows[0]!.pid);
      }
      const serverCpu = () => backends.reduce((sum, pid) => sum + cpuSeconds(pid), 0);
      const cpuBefore = { node: process.cpuUsage(), server: serverCpu() };
      const started = performance.now();
      // Each connection takes the next batch as soon as its previous one committed.
      let next = 0;
      let written = 0;
      await Promise.all(
        clients.map(async (client) => {
          for (let i = next; i < records.length; i = next) {
            next += batchSize;
            const n = await write(client, records.slice(i, i + batchSize));
            written += n; // after the await: `written += await …` would add to a stale total
          }
        }),
      );
      const seconds = (performance.now() - started) / 1000;
      const nodeCpu = process.cpuUsage(cpuBefore.node);
      const cpu = { node: (nodeCpu.user + nodeCpu.system) / 1e6, server: serverCpu() - cpuBefore.server };
      for (const client of clients) client.release();
      const count = await db.$client.query<{ n: number }>("SELECT COUNT(*) AS n FROM calls");
      if (written !== rows || count.rows[0]!.n !== rows) throw new Error(`${name}: wrote ${written}, table holds ${count.rows[0]!.n}, expected ${rows}`);
      // On-disk size per call: every calls partition with its indexes (and TOAST).
      const size = await db.$client.query<{ bytes: number }>(
        "SELECT SUM(pg_total_relation_size(inhrelid)) AS bytes FROM pg_inherits WHERE inhparent = 'calls'::regclass",
      );
      bytesPerCall[name]!.push(size.rows[0]!.bytes / rows);
      rates[name]!.push(rows / seconds);
      perCpu[name]!.push(rows / (cpu.node + cpu.server));
      process.stdout.write(
        `run ${run + 1} ${name.padEnd(6)} ${fmt(rows / seconds)} rows/s · CPU µs per row: node ${((cpu.node / rows) * 1e6).toFixed(1)}, ` +
          `postgres backend ${((cpu.server / rows) * 1e6).toFixed(1)} → ${fmt(rows / (cpu.node + cpu.server))} rows per CPU-second\n`,
      );
      await db.$client.end();
      await database.drop();
    }
  }
} catch (err) {
  process.stderr.write(`${(err as Error).stack ?? err}\n`);
  process.exitCode = 1;
} finally {
  await server.stop();
}
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
for (const [name, xs] of Object.entries(rates)) {
  process.stdout.write(
    `median ${name.padEnd(6)} ${fmt(median(xs))} rows/s, ${fmt(median(perCpu[name]!))} rows per CPU-second, ` +
      `${fmt(median(bytesPerCall[name]!))} bytes per call on disk (calls and its indexes)\n`,
  );
}
process.stdout.write(
  `${rows.toLocaleString("en-US")} rows per run in batches of ${batchSize} over ${connections} connection(s) · PostgreSQL ${version} · ` +
    `node ${process.version} · ${cpus().length} CPU(s) · load average ${loadavg().map((x) => x.toFixed(1)).join(" ")}\n`,
);
