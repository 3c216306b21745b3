import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { latencyRound, newTally, throughputRound, type Target, type Tally } from "./load.ts";
import type { Scenario } from "./scenarios.ts";
import { mean, median } from "./stats.ts";
import { fmt, type Row } from "./table.ts";

// What observability costs the proxy: the same tollbooth three times, with metrics off (plain),
// with the Prometheus counters on (the default), and with the counters plus OpenTelemetry
// tracing to an OTLP sink. Rounds alternate the three in rotating order, like the main
// comparison, and each figure is the median of the per-round ratios against plain.

export const VARIANTS = ["plain", "metrics", "tracing"] as const;
export type Variant = (typeof VARIANTS)[number];

/** Server-child environment for each variant (`otlpUrl`: where spans and metrics go). */
export function variantEnv(variant: Variant, upstreamUrl: string, otlpUrl: string): Record<string, string> {
  const base = { BENCH_UPSTREAM_URL: upstreamUrl };
  if (variant === "plain") return { ...base, BENCH_METRICS: "false" };
  if (variant === "metrics") return base;
  return { ...base, BENCH_OTEL_URL: otlpUrl };
}

/** An OTLP/HTTP endpoint that accepts and drops every export (its cost is the exporter's, not ours). */
export async function startOtlpSink(): Promise<{ url: string; close(): Promise<void> }> {
  const server = createServer((req, res) => {
    req.resume();
    req.on("end", () => res.writeHead(200, { "content-type": String(req.headers["content-type"] ?? "application/x-protobuf") }).end());
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, close: () => new Promise((r) => server.close(() => r())) };
}

const rotation = (r: number): Variant[] => [...VARIANTS.slice(r % 3), ...VARIANTS.slice(0, r % 3)];

export async function compareVariants(
  targets: Record<Variant, Target>,
  cpu: Record<Variant, () => Promise<number>>,
  scenarios: readonly Scenario[],
  opts: { latencyRequests: number; connections: number; seconds: number; rounds: number },
): Promise<{ rows: Row[]; tallies: Tally[] }> {
  const tallies = { plain: newTally(), metrics: newTally(), tracing: newTally() };
  const rows: Row[] = [];
  for (const s of scenarios) {
    const lat: Array<Record<Variant, number>> = [];
    const tput: Array<Record<Variant, number>> = [];
    const cpuPer: Array<Record<Variant, number>> = [];
    for (let r = 0; r < opts.rounds; r++) {
      const l = {} as Record<Variant, number>;
      const t = {} as Record<Variant, number>;
      const c = {} as Record<Variant, number>;
      for (const v of rotation(r)) l[v] = mean(await latencyRound(targets[v], s, opts.latencyRequests, tallies[v]));
      for (const v of rotation(r)) {
        const before = await cpu[v]();
        const result = await throughputRound(targets[v], [s], opts.connections, opts.seconds, tallies[v]);
        t[v] = result.rps;
        c[v] = ((await cpu[v]()) - before) / Math.max(1, result.completed);
      }
      lat.push(l);
      tput.push(t);
      cpuPer.push(c);
    }
    const name = s.name.toUpperCase();
    for (const v of ["metrics", "tracing"] as const) {
      const label = v === "metrics" ? "metrics on" : "metrics + tracing on";
      rows.push({
        metric: `${name} latency mean, 1 conn, ${label}`,
        direct: `${fmt.ms(median(lat.map((x) => x.plain)))} plain`,
        tollbooth: fmt.ms(median(lat.map((x) => x[v]))),
        delta: fmt.added(median(lat.map((x) => x[v] - x.plain))),
        target: "—",
        result: "—",
      });
      rows.push({
        metric: `${name} throughput, ${opts.connections} conns, ${label}`,
        direct: `${fmt.rate(median(tput.map((x) => x.plain)), "req/s")} plain`,
        tollbooth: fmt.rate(median(tput.map((x) => x[v])), "req/s"),
        delta: fmt.ratio(median(tput.map((x) => x[v] / x.plain))),
        target: "—",
        result: "—",
      });
      rows.push({
        metric: `${name} CPU per call, ${label}`,
        direct: `${fmt.int(Math.round(median(cpuPer.map((x) => x.plain))))} µs plain`,
        tollbooth: `${fmt.int(Math.round(median(cpuPer.map((x) => x[v]))))} µs`,
        delta: signedUs(median(cpuPer.map((x) => x[v] - x.plain))),
        target: "—",
        result: "—",
      });
    }
  }
  return { rows, tallies: Object.values(tallies) };
}

function signedUs(x: number): string {
  const r = Math.round(x);
  return `${r >= 0 ? "+" : "−"}${fmt.int(Math.abs(r))} µs`;
}
