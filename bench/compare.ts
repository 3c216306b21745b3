import { latencyRound, SIDES, throughputRound, type Side, type Sides, type Tally, type Target } from "./load.ts";
import type { Scenario } from "./scenarios.ts";
import { mean, median, percentile } from "./stats.ts";

// Direct, bare proxy and tollbooth in interleaved rounds. Each round runs all three, and the
// order rotates (D B T, B T D, T D B, …) so a slow drift of the shared machine (another tenant,
// thermal, GC of the generator) lands on every side equally: over three rounds each side runs
// once first, once second, once last. Each figure is the median over rounds, and every
// "added"/"ratio" is the median of the per-round differences/ratios, which cancels noise common
// to the rounds of one rotation.

export type Tallies = Sides<Tally>;

/** Round r runs the sides in SIDES order rotated left by r. */
export function rotation(round: number): Side[] {
  const k = round % SIDES.length;
  return [...SIDES.slice(k), ...SIDES.slice(0, k)];
}

async function interleave<T>(rounds: number, targets: Sides<Target>, run: (t: Target) => Promise<T>): Promise<Array<Sides<T>>> {
  const out: Array<Sides<T>> = [];
  for (let r = 0; r < rounds; r++) {
    const result: Partial<Sides<T>> = {};
    for (const side of rotation(r)) result[side] = await run(targets[side]);
    out.push(result as Sides<T>);
  }
  return out;
}

interface LatencyStat {
  mean: number;
  p50: number;
  p99: number;
}

export interface LatencyComparison extends Sides<LatencyStat> {
  /** tollbooth − direct: what the latency target (docs/architecture.md) bounds. */
  added: LatencyStat;
  /** bare proxy − direct: the part of `added` any Node proxy pays. */
  bareAdded: LatencyStat;
}

const KEYS = ["mean", "p50", "p99"] as const;

export async function compareLatency(targets: Sides<Target>, tallies: Tallies, scenario: Scenario, n: number, rounds: number): Promise<LatencyComparison> {
  const results = await interleave(rounds, targets, async (t) => {
    const xs = await latencyRound(t, scenario, n, tallies[t.name]);
    return { mean: mean(xs), p50: percentile(xs, 50), p99: percentile(xs, 99) };
  });
  const stat = (f: (r: Sides<LatencyStat>, k: (typeof KEYS)[number]) => number): LatencyStat =>
    ({ mean: median(results.map((r) => f(r, "mean"))), p50: median(results.map((r) => f(r, "p50"))), p99: median(results.map((r) => f(r, "p99"))) });
  return {
    direct: stat((r, k) => r.direct[k]),
    bare: stat((r, k) => r.bare[k]),
    tollbooth: stat((r, k) => r.tollbooth[k]),
    added: stat((r, k) => r.tollbooth[k] - r.direct[k]),
    bareAdded: stat((r, k) => r.bare[k] - r.direct[k]),
  };
}

export interface ThroughputComparison {
  rps: Sides<number>;
  /** Medians of per-round throughput ratios; the target bounds `tollbooth` (vs direct). */
  ratio: { tollbooth: number; bare: number; tollboothVsBare: number };
  /** CPU µs per request of the process serving each side: fake upstream, bare proxy, tollbooth. */
  cpuPerRequest: Sides<number>;
  /** Each round's req/s, in the order run, for the log: how far the rounds spread. */
  rounds: Array<Sides<number>>;
}

/** Cumulative CPU time (µs) of the process that serves a side. */
export type CpuProbe = Sides<() => Promise<number>>;

export async function compareThroughput(targets: Sides<Target>, tallies: Tallies, cpu: CpuProbe, scenario: Scenario, connections: number, seconds: number, rounds: number): Promise<ThroughputComparison> {
  const results = await interleave(rounds, targets, async (t) => {
    const tally = tallies[t.name];
    const [cpu0, sent0] = [await cpu[t.name](), tally.sent];
    const { rps } = await throughputRound(t, [scenario], connections, seconds, tally);
    return { rps, cpu: ((await cpu[t.name]()) - cpu0) / (tally.sent - sent0) };
  });
  const each = (f: (r: (typeof results)[number]) => number) => median(results.map(f));
  const perSide = (k: "rps" | "cpu"): Sides<number> => ({ direct: each((r) => r.direct[k]), bare: each((r) => r.bare[k]), tollbooth: each((r) => r.tollbooth[k]) });
  return {
    rps: perSide("rps"),
    ratio: {
      tollbooth: each((r) => r.tollbooth.rps / r.direct.rps),
      bare: each((r) => r.bare.rps / r.direct.rps),
      tollboothVsBare: each((r) => r.tollbooth.rps / r.bare.rps),
    },
    cpuPerRequest: perSide("cpu"),
    rounds: results.map((r) => ({ direct: r.direct.rps, bare: r.bare.rps, tollbooth: r.tollbooth.rps })),
  };
}
