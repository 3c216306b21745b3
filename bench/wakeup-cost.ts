import { join } from "node:path";
import { loadavg } from "node:os";
import { startChild } from "./child-rpc.ts";
import { processCpuSeconds } from "./proc-cpu.ts";
import { rateLoad } from "./rate-load.ts";
import { SCENARIOS } from "./scenarios.ts";
import { intEnv } from "./settings.ts";

// What a request costs a trivial Node server (the fake upstream: parse the JSON, answer a fixed
// completion) at a low and at a high rate, on this machine now. A process that gets its requests
// one at a time pays a wake-up from idle for each (the kernel, a virtual CPU's exit and entry,
// cold caches); at a high rate one wake-up serves several. Splitting a fixed load over N processes
// on the same cores divides each one's rate by N, so this is the floor under bench:scale's rise
// in CPU per call with more instances, for any Node server and not only tollbooth.
// Run with: flock /tmp/tollbooth-bench.lock npm run bench:wakeup   (BENCH_WAKEUP_RATES=150,1500,150,1500)

const rates = (process.env.BENCH_WAKEUP_RATES ?? "150,1500,150,1500").split(",").map(Number);
const seconds = intEnv(process.env, "BENCH_WAKEUP_SECONDS", 10);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const upstream = await startChild<{ url: string }>(join(import.meta.dirname, "upstream-child.ts"));
const origin = new URL(upstream.info.url).origin;
const rows: string[] = ["| requests/s | µs CPU per request: the server | the load generator |", "| --- | --- | --- |"];
try {
  for (const rate of rates) {
    const gen = rateLoad([origin], SCENARIOS[0]!, rate);
    await sleep(3_000);
    const server0 = processCpuSeconds(upstream.pid);
    const self0 = process.cpuUsage();
    gen.startWindow();
    await sleep(seconds * 1000);
    const result = await gen.stop();
    const server = processCpuSeconds(upstream.pid) - server0;
    const self = process.cpuUsage(self0);
    const per = (s: number) => ((s / result.completed) * 1e6).toFixed(0);
    rows.push(`| ${(result.completed / result.seconds).toFixed(0)} | ${per(server)} | ${per((self.user + self.system) / 1e6)} |`);
    process.stderr.write(`${rows.at(-1)}\n`);
  }
} finally {
  await upstream.stop();
}
process.stdout.write(`${rows.join("\n")}\n\nload average ${loadavg().map((x) => x.toFixed(1)).join(" ")}\n`);
