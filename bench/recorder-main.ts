import { mkdtempSync, rmSync } from "node:fs";
import { cpus, loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { measureRecorderRate } from "./recorder-rate.ts";
import { intEnv } from "./settings.ts";

// `npm run bench:recorder`: bench:gateway's recorder write rate on its own (seconds instead of
// minutes), to compare a change to the write path before and after. Each run writes
// BENCH_RECORDER_ROWS production-shaped rows (bench/rows.ts: ~3 % failures with a message and
// bodies) into fresh files through the Recorder and through hand-written INSERTs, alternating.
// BENCH_RECORDER_RUNS (3) runs; the median run is what to compare.

const rows = intEnv(process.env, "BENCH_RECORDER_ROWS", 200_000);
const chunk = intEnv(process.env, "BENCH_RECORDER_CHUNK", 20_000);
const runs = intEnv(process.env, "BENCH_RECORDER_RUNS", 3);
const fmt = (x: number) => `${Math.round(x).toLocaleString("en-US")} rows/s`;
const rates: number[] = [];
for (let i = 0; i < runs; i++) {
  const dir = mkdtempSync(join(tmpdir(), "tollbooth-bench-recorder-"));
  try {
    const { recorder, raw } = await measureRecorderRate(dir, rows, chunk);
    rates.push(recorder.rowsPerSec);
    process.stdout.write(
      `run ${i + 1}: recorder ${fmt(recorder.rowsPerSec)} (slowest chunk ${fmt(recorder.minChunkRate)}), ` +
        `hand-written INSERTs ${fmt(raw.rowsPerSec)}, ratio ${(recorder.rowsPerSec / raw.rowsPerSec).toFixed(3)}\n`,
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
const median = [...rates].sort((a, b) => a - b)[Math.floor(rates.length / 2)]!;
process.stdout.write(
  `median recorder ${fmt(median)} · ${rows.toLocaleString("en-US")} rows per run in chunks of ${chunk.toLocaleString("en-US")} · ` +
    `node ${process.version} · ${cpus().length} CPU(s) · load average ${loadavg().map((x) => x.toFixed(1)).join(" ")}\n`,
);
