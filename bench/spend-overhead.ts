import { latencyRound, throughputRound, type Tally, type Target } from "./load.ts";
import type { Scenario } from "./scenarios.ts";
import { mean, median } from "./stats.ts";
import { fmt, verdict, type Row } from "./table.ts";

// What spend control adds to a call: the same JSON call through the same tollbooth, once with a
// caller's own key (passthrough: no key check, no budget applies) and once with a tollbooth key
// whose team has a hard budget and whose rpm/tpm limits are set (key lookup, rate limits, the
// upper-bound estimate, a reservation and its settlement). Interleaved rounds, alternating which
// goes first; each figure is the median over rounds of the per-round difference.

const ADDED_MEAN_TARGET_MS = 0.2;

export async function spendOverheadRows(target: Target, tally: Tally, passthrough: Scenario, keyed: Scenario, opts: { n: number; rounds: number; connections: number; seconds: number }): Promise<Row[]> {
  const latency: Array<{ plain: number; key: number }> = [];
  const rps: Array<{ plain: number; key: number }> = [];
  for (let r = 0; r < Math.max(2, opts.rounds * 2); r++) {
    const order = r % 2 === 0 ? (["plain", "key"] as const) : (["key", "plain"] as const);
    const l: Partial<{ plain: number; key: number }> = {};
    for (const side of order) l[side] = mean(await latencyRound(target, side === "plain" ? passthrough : keyed, opts.n, tally));
    latency.push(l as { plain: number; key: number });
  }
  for (let r = 0; r < Math.max(2, opts.rounds); r++) {
    const order = r % 2 === 0 ? (["plain", "key"] as const) : (["key", "plain"] as const);
    const t: Partial<{ plain: number; key: number }> = {};
    for (const side of order) t[side] = (await throughputRound(target, [side === "plain" ? passthrough : keyed], opts.connections, opts.seconds, tally)).rps;
    rps.push(t as { plain: number; key: number });
  }
  const added = median(latency.map((x) => x.key - x.plain));
  return [
    {
      metric: "JSON latency mean, 1 conn: passthrough vs tollbooth key + hard budget + rpm/tpm",
      direct: `${fmt.ms(median(latency.map((x) => x.plain)))} passthrough`,
      tollbooth: `${fmt.ms(median(latency.map((x) => x.key)))} key`,
      delta: fmt.added(added),
      target: `≤ +${ADDED_MEAN_TARGET_MS} ms`,
      result: verdict(added <= ADDED_MEAN_TARGET_MS),
    },
    {
      metric: `JSON throughput, ${opts.connections} conns: passthrough vs tollbooth key + hard budget + rpm/tpm`,
      direct: `${fmt.rate(median(rps.map((x) => x.plain)), "req/s")} passthrough`,
      tollbooth: `${fmt.rate(median(rps.map((x) => x.key)), "req/s")} key`,
      delta: fmt.ratio(median(rps.map((x) => x.key / x.plain))),
      target: "—",
      result: "—",
    },
  ];
}
