import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { cpus, loadavg } from "node:os";
import { intEnv } from "./settings.ts";
import { runFreshTailScenario } from "./fresh-tail-bench.ts";
import { markdown } from "./spend-bench.ts";
import { ensureSpendDb } from "./spend-data.ts";

// `npm run bench:tail`: the spend benchmark's fresh-tail scenario on its own (BENCH_CALLS,
// BENCH_SPEND_DIR and the BENCH_TAIL_* knobs as in bench:spend). Prints its table; exit code 0
// even when a target is missed.

const started = performance.now();
const log = (msg: string) => process.stderr.write(`[tail ${((performance.now() - started) / 1000).toFixed(1).padStart(6)} s] ${msg}\n`);
const load = () => loadavg().map((x) => x.toFixed(1)).join(" ");
const loadAtStart = load();
const calls = intEnv(process.env, "BENCH_CALLS", process.env.BENCH_QUICK ? 200_000 : 10_000_000);
const data = await ensureSpendDb(process.env.BENCH_SPEND_DIR || join(dirname(fileURLToPath(import.meta.url)), "out"), calls, log);
const { rows, notes } = await runFreshTailScenario(data.path, log);
process.stdout.write(
  `\n${markdown(rows)}\n\n${notes.join("\n")}\n` +
    `BENCH_CALLS=${calls} npm run bench:tail · node ${process.version} · ${cpus().length} CPU(s) · ` +
    `load average ${loadAtStart} at start, ${load()} at end · ${((performance.now() - started) / 1000).toFixed(0)} s\n`,
);
