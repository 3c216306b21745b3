import { formatNanoAsUsd, percentChange } from "../money.ts";
import type { UsageReport } from "../usage/usage-query.ts";

// "Biggest movers": the models and teams whose spend changed most, in absolute terms, from the
// previous period to this one. Money stays integer nano-USD (BigInt) until formatted.

export interface Mover {
  dimension: "model" | "team";
  /** null = calls without that attribute (no team header). */
  name: string | null;
  currentUsd: string;
  previousUsd: string;
  /** Signed decimal USD ("-12.500000000"). */
  deltaUsd: string;
  /** Percent string, null when the previous period had no spend. */
  changePercent: string | null;
  /** |delta| in nano-USD, for ranking. */
  magnitude: bigint;
}

/**
 * Rows folded into "(other)" are left out: which values fold differs between the two periods,
 * so their difference means nothing. A value present in only one period counts as 0 in the other.
 */
export function biggestMovers(dimension: Mover["dimension"], current: UsageReport, previous: UsageReport): Mover[] {
  const costs = new Map<string, { name: string | null; now: bigint; before: bigint }>();
  const entry = (name: string | null) => {
    const key = JSON.stringify(name);
    let e = costs.get(key);
    if (!e) costs.set(key, (e = { name, now: 0n, before: 0n }));
    return e;
  };
  for (const row of current.rows) if (!row.other) entry(row.group[dimension] ?? null).now = row.costNano;
  for (const row of previous.rows) if (!row.other) entry(row.group[dimension] ?? null).before = row.costNano;
  const movers: Mover[] = [];
  for (const { name, now, before } of costs.values()) {
    const delta = now - before;
    if (delta === 0n) continue;
    movers.push({
      dimension,
      name,
      currentUsd: formatNanoAsUsd(now),
      previousUsd: formatNanoAsUsd(before),
      deltaUsd: formatNanoAsUsd(delta),
      changePercent: percentChange(now, before),
      magnitude: delta < 0n ? -delta : delta,
    });
  }
  return movers;
}
