import { latencyRound, throughputRound, type Tally, type Target } from "./load.ts";
import type { Scenario } from "./scenarios.ts";
import { mean, median, percentile } from "./stats.ts";

// Direct vs tollbooth in interleaved rounds. Pairs alternate their order (D T, T D, D T …) so a
// slow drift of the shared machine (another tenant, thermal, GC of the generator) lands on both
// sides equally; each figure is the median over rounds, and "added"/"ratio" is the median of
// the per-pair differences/ratios, which cancels noise common to the two rounds of a pair.

export interface Tallies {
  direct: Tally;
  tollbooth: Tally;
}

interface Pair<T> {
  direct: T;
  tollbooth: T;
}

async function interleave<T>(pairs: number, targets: Pair<Target>, run: (t: Target) => Promise<T>): Promise<Array<Pair<T>>> {
  const out: Array<Pair<T>> = [];
  for (let p = 0; p < pairs; p++) {
    const order = p % 2 === 0 ? (["direct", "tollbooth"] as const) : (["tollbooth", "direct"] as const);
    const result: Partial<Pair<T>> = {};
    for (const side of order) result[side] = await run(targets[side]);
    out.push(result as Pair<T>);
  }
  return out;
}

export interface LatencyStat {
  mean: number;
  p50: number;
  p99: number;
}

export interface LatencyComparison {
  direct: LatencyStat;
  tollbooth: LatencyStat;
  added: LatencyStat;
}

const KEYS = ["mean", "p50", "p99"] as const;

export async function compareLatency(targets: Pair<Target>, tallies: Tallies, scenario: Scenario, n: number, pairs: number): Promise<LatencyComparison> {
  const rounds = await interleave(pairs, targets, async (t) => {
    const xs = await latencyRound(t, scenario, n, tallies[t.name]);
    return { mean: mean(xs), p50: percentile(xs, 50), p99: percentile(xs, 99) };
  });
  const pick = (f: (r: Pair<LatencyStat>) => number) => median(rounds.map(f));
  const stat = (f: (r: Pair<LatencyStat>, k: (typeof KEYS)[number]) => number): LatencyStat =>
    ({ mean: pick((r) => f(r, "mean")), p50: pick((r) => f(r, "p50")), p99: pick((r) => f(r, "p99")) });
  return {
    direct: stat((r, k) => r.direct[k]),
    tollbooth: stat((r, k) => r.tollbooth[k]),
    added: stat((r, k) => r.tollbooth[k] - r.direct[k]),
  };
}

export interface ThroughputComparison {
  direct: number;
  tollbooth: number;
  ratio: number;
  /** CPU µs per request of the process serving each side: the fake upstream, tollbooth. */
  cpuPerRequest: Pair<number>;
}

/** Cumulative CPU time (µs) of the process that serves a side. */
export type CpuProbe = Pair<() => Promise<number>>;

export async function compareThroughput(targets: Pair<Target>, tallies: Tallies, cpu: CpuProbe, scenario: Scenario, connections: number, seconds: number, pairs: number): Promise<ThroughputComparison> {
  const rounds = await interleave(pairs, targets, async (t) => {
    const tally = tallies[t.name];
    const [cpu0, sent0] = [await cpu[t.name](), tally.sent];
    const { rps } = await throughputRound(t, [scenario], connections, seconds, tally);
    return { rps, cpu: ((await cpu[t.name]()) - cpu0) / (tally.sent - sent0) };
  });
  return {
    direct: median(rounds.map((r) => r.direct.rps)),
    tollbooth: median(rounds.map((r) => r.tollbooth.rps)),
    ratio: median(rounds.map((r) => r.tollbooth.rps / r.direct.rps)),
    cpuPerRequest: { direct: median(rounds.map((r) => r.direct.cpu)), tollbooth: median(rounds.map((r) => r.tollbooth.cpu)) },
  };
}
