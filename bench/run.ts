import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { cpus, loadavg, tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { startChild, type Child } from "./child-rpc.ts";
import { compareLatency, compareThroughput, rotation, type Tallies } from "./compare.ts";
import { makeTarget, newTally, SIDES, throughputRound } from "./load.ts";
import { drift, recordingRate, type MemorySample } from "./memory.ts";
import { compareVariants, startOtlpSink, VARIANTS, variantEnv, type Variant } from "./observability-variants.ts";
import { measureRecorderRate } from "./recorder-rate.ts";
import { failedRow, gatewayDocument, latencyRows, liveHeapRow, memoryRow, recordedRow, recorderRows, recordingRateRow, throughputRows } from "./report.ts";
import { keyedScenario, SCENARIOS } from "./scenarios.ts";
import { spendOverheadRows } from "./spend-overhead.ts";
import { loadSettings } from "./settings.ts";
import { fmt, markdownTable, type Row } from "./table.ts";

// `npm run bench:gateway`: tollbooth's overhead against a fast fake upstream (targets in
// docs/architecture.md, "Performance targets").
//
// Separate processes, so no two parties share an event loop: this one is only the load generator
// (and orchestrator, idle during measurements); the fake upstream, tollbooth and the bare proxy
// (a minimal forwarder, the floor any Node proxy pays here) are children, and only one of the
// two proxies carries traffic at a time. In-process the generator's own work would be counted
// as proxy latency and would steal the proxy's loop at 32 connections; worker threads would
// separate the loops but not the memory figures (RSS is per process). On 2 cores generator,
// proxy and upstream still share CPUs, which is why every figure is taken against a direct
// baseline from the same run (see compare.ts).
// Exit code is 0 even when a target is missed: this is a measurement, not a test.

const here = dirname(fileURLToPath(import.meta.url));
const settings = loadSettings();
const started = performance.now();
const log = (msg: string) => process.stderr.write(`[bench ${((performance.now() - started) / 1000).toFixed(1).padStart(5)} s] ${msg}\n`);
// Other tenants' load is the main source of noise on a shared machine; it goes in the report.
const load = () => loadavg().map((x) => x.toFixed(1)).join(" ");
const loadAtStart = load();

log(`mode ${settings.quick ? "quick" : "full"}: ${JSON.stringify(settings)}`);
// Started in order and stopped in reverse, also when one of them fails to start.
const children: Array<Child<{ url: string; spendKey?: string }>> = [];
const start = async (file: string, env: Record<string, string> = {}, flags: string[] = []) => {
  const child = await startChild<{ url: string; spendKey?: string }>(join(here, file), env, flags);
  children.push(child);
  return child;
};
const tallies: Tallies = { direct: newTally(), bare: newTally(), tollbooth: newTally() };
const rows: Row[] = [];
let soakSamples: MemorySample[] = [];
let soakRps = NaN;

try {
  const upstream = await start("upstream-child.ts");
  const server = await start("server-child.ts", { BENCH_UPSTREAM_URL: upstream.info.url }, ["--expose-gc"]);
  const bare = await start("bare-proxy-child.ts", { BENCH_UPSTREAM_URL: upstream.info.url });
  const targets = {
    direct: makeTarget("direct", upstream.info.url),
    bare: makeTarget("bare", `${bare.info.url}/v1`),
    tollbooth: makeTarget("tollbooth", `${server.info.url}/v1`),
  };
  const cpu = { direct: () => upstream.call<number>("cpu"), bare: () => bare.call<number>("cpu"), tollbooth: () => server.call<number>("cpu") };

  log(`warm-up ${settings.warmupSeconds} s per target`);
  for (const side of SIDES) await throughputRound(targets[side], SCENARIOS, settings.connections, settings.warmupSeconds, tallies[side]);

  for (const s of SCENARIOS) {
    log(`${s.name}: latency, ${settings.latencyRounds} rounds × 3 targets × ${settings.latencyRequests} sequential requests`);
    rows.push(...latencyRows(s.name.toUpperCase(), await compareLatency(targets, tallies, s, settings.latencyRequests, settings.latencyRounds)));
  }
  log(`spend control: tollbooth key + hard budget + rpm/tpm vs passthrough, ${settings.latencyRounds * 2} latency rounds`);
  const spendOpts = { n: settings.latencyRequests, rounds: settings.latencyRounds, connections: settings.connections, seconds: settings.throughputSeconds };
  rows.push(...(await spendOverheadRows(targets.tollbooth, tallies.tollbooth, SCENARIOS[0]!, keyedScenario(server.info.spendKey!), spendOpts)));
  for (const s of SCENARIOS) {
    log(`${s.name}: throughput, ${settings.throughputRounds} rounds × 3 targets × ${settings.throughputSeconds} s at ${settings.connections} connections`);
    const c = await compareThroughput(targets, tallies, cpu, s, settings.connections, settings.throughputSeconds, settings.throughputRounds);
    for (const [i, r] of c.rounds.entries()) log(`  round ${i + 1}: ${rotation(i).map((side) => `${side} ${fmt.int(Math.round(r[side]))}`).join(", ")} req/s`);
    rows.push(...throughputRows(s.name.toUpperCase(), settings.connections, c));
  }

  log(`soak: ${settings.soakSeconds} s of JSON + streaming through tollbooth, sampling its memory every second`);
  const liveBefore = await server.call<number>("live-heap");
  await server.call("sample-start");
  soakRps = (await throughputRound(targets.tollbooth, SCENARIOS, settings.connections, settings.soakSeconds, tallies.tollbooth)).rps;
  soakSamples = await server.call<MemorySample[]>("sample-stop");

  const settled = await server.call<{ rows: number }>("settle");
  const liveAfter = await server.call<number>("live-heap");
  rows.push(
    recordedRow(tallies.tollbooth.sent, settled.rows),
    recordingRateRow(settings.connections, recordingRate(soakSamples)),
    memoryRow("heapUsed", settings.soakSeconds, drift(soakSamples, (s) => s.heapUsed)),
    memoryRow("RSS", settings.soakSeconds, drift(soakSamples, (s) => s.rss)),
    liveHeapRow(settings.soakSeconds, liveBefore, liveAfter),
  );
} finally {
  for (const child of children.reverse()) await child.stop();
}

// What metrics and tracing cost: tollbooth with metrics off, on, and on with tracing, each in its
// own process against a fresh upstream (the main comparison above runs the default: metrics on).
if (!process.env.BENCH_SKIP_OBSERVABILITY) {
  const sink = await startOtlpSink();
  const variantChildren: Array<Child<{ url: string }>> = [];
  try {
    const upstream = await startChild<{ url: string }>(join(here, "upstream-child.ts"));
    variantChildren.push(upstream);
    const servers = {} as Record<Variant, Child<{ url: string }>>;
    for (const v of VARIANTS) {
      servers[v] = await startChild<{ url: string }>(join(here, "server-child.ts"), variantEnv(v, upstream.info.url, sink.url));
      variantChildren.push(servers[v]);
    }
    const targets = Object.fromEntries(VARIANTS.map((v) => [v, makeTarget("tollbooth", `${servers[v].info.url}/v1`)])) as Record<Variant, ReturnType<typeof makeTarget>>;
    const cpu = Object.fromEntries(VARIANTS.map((v) => [v, () => servers[v].call<number>("cpu")])) as Record<Variant, () => Promise<number>>;
    for (const v of VARIANTS) await throughputRound(targets[v], SCENARIOS, settings.connections, settings.warmupSeconds, newTally());
    log(`observability: plain / metrics / metrics + tracing, ${settings.throughputRounds} rounds of latency and throughput per scenario`);
    const compared = await compareVariants(targets, cpu, SCENARIOS, {
      latencyRequests: settings.latencyRequests,
      connections: settings.connections,
      seconds: settings.throughputSeconds,
      rounds: settings.throughputRounds,
    });
    rows.push(...compared.rows);
    for (const t of compared.tallies) if (t.firstError) tallies.tollbooth.firstError ??= t.firstError;
  } finally {
    for (const child of variantChildren.reverse()) await child.stop();
    await sink.close();
  }
}

// After the HTTP phases, with the children gone, so SQLite gets the machine to itself.
log(`recorder: ${fmt.int(settings.recorderRows)} rows in chunks of ${fmt.int(settings.recorderChunk)}, raw SQLite vs Recorder, alternating`);
const dbDir = mkdtempSync(join(tmpdir(), "tollbooth-bench-recorder-"));
try {
  rows.push(...recorderRows(await measureRecorderRate(dbDir, settings.recorderRows, settings.recorderChunk)), failedRow(tallies));
} finally {
  rmSync(dbDir, { recursive: true, force: true });
}

const table = markdownTable(rows);
const missed = rows.filter((r) => r.result === "MISSED");
const summary = missed.length ? `MISSED ${missed.length} target(s): ${missed.map((r) => r.metric).join("; ")}` : "All targets met.";
const errors = SIDES.map((side) => tallies[side].firstError).filter((e): e is string => e !== null);
const context =
  `${settings.quick ? "BENCH_QUICK=1 " : ""}npm run bench:gateway · node ${process.version} · ${cpus().length} CPU(s) · ` +
  `latency ${settings.latencyRounds} rounds × 3 targets × ${settings.latencyRequests} requests · throughput ${settings.throughputRounds} rounds × 3 targets × ${settings.throughputSeconds} s · ` +
  `soak ${settings.soakSeconds} s at ${fmt.rate(soakRps, "req/s")} · recorder ${fmt.int(settings.recorderRows)} rows · ` +
  `load average ${loadAtStart} at start, ${load()} at end · ${((performance.now() - started) / 1000).toFixed(0)} s`;

process.stdout.write(`\n${table}\n\n${summary}\n${errors.map((e) => `First failure: ${e}\n`).join("")}${context}\n`);
const out = join(here, "out", "gateway.md");
mkdirSync(dirname(out), { recursive: true });
writeFileSync(out, gatewayDocument(context, table, summary, errors));
log(`written to ${out}`);
