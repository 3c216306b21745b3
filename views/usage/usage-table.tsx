import { formatNanoAsUsd, percentChange } from "../../server/money.ts";
import type { Measures, UsageRow } from "../../server/usage/usage-query.ts";
import { KeyId, Named, type NameKind } from "../components/bits.tsx";
import { averageLatencyMs } from "../../server/usage/chart-spec.ts";
import { formatChange, formatCount, formatMs, formatPercent, formatTokens } from "../../server/format.ts";
import { columnDigits } from "../../server/usd-column.ts";
import { Usd } from "../components/usd.tsx";
import { groupKey } from "../../server/usage/spend-groups.ts";

// The table under the usage and spend charts: one row per group, measures, a totals row and,
// on the spend page, the previous period's cost with the change.

export interface GroupColumn {
  key: string;
  label: string;
}


/** The mark of a group column's names (the spend and usage groupings are these four and key). */
function nameKind(key: string): NameKind {
  return key === "team" || key === "project" || key === "user" ? key : "model";
}

function GroupCell({ column, value, other }: { column: GroupColumn; value: string | null | undefined; other: boolean }) {
  if (other && value === "(other)") return <span class="muted">(other)</span>;
  if (column.key === "key") return <KeyId keyId={value ?? null} />;
  if (["hour", "day", "week", "month"].includes(column.key)) return <span class="nowrap">{value}</span>;
  return <Named name={value ?? null} kind={nameKind(column.key)} empty="(none)" />;
}

function Latency({ m }: { m: Measures }) {
  const ms = averageLatencyMs(m);
  return <>{ms === null ? "–" : formatMs(ms)}</>;
}

function Tokens({ n }: { n: bigint }) {
  return <span title={formatCount(n)}>{formatTokens(n)}</span>;
}

export function UsageTable({
  columns,
  rows,
  totals,
  previous,
  caption,
  latency = false,
}: {
  columns: GroupColumn[];
  rows: UsageRow[];
  totals: Measures;
  previous?: { byGroup: Map<string, Measures>; totals: Measures };
  caption?: string;
  /** Show the average latency (the usage page; finance's spend page leaves it out). */
  latency?: boolean;
}) {
  const change = (current: bigint, before: Measures | undefined) => {
    if (!before) return <span class="muted">new</span>;
    const pct = percentChange(current, before.costNano);
    return <span class={pct === null ? "muted" : Number(pct) > 0 ? "up" : "down"}>{formatChange(pct)}</span>;
  };
  // One precision per column (Cost, Previous), the exact amount in each cell's tooltip.
  const costDigits = columnDigits([...rows, totals].map((m) => formatNanoAsUsd(m.costNano)));
  const previousDigits = previous ? columnDigits([...previous.byGroup.values(), previous.totals].map((m) => formatNanoAsUsd(m.costNano))) : 2;
  const cost = (m: Measures) => <Usd usd={formatNanoAsUsd(m.costNano)} digits={costDigits} unpriced={m.unpricedRequests} requests={m.requests} />;
  const previousCost = (m: Measures) => <Usd usd={formatNanoAsUsd(m.costNano)} digits={previousDigits} unpriced={m.unpricedRequests} requests={m.requests} />;
  return (
    <div class="table-scroll">
      <table class="striped usage">
        {caption ? <caption class="sr-only">{caption}</caption> : null}
        <thead>
          <tr>
            {columns.map((c) => (
              <th>{c.label}</th>
            ))}
            <th class="num col-low">Requests</th>
            <th class="num col-low">Errors</th>
            <th class="num col-low">Prompt tokens</th>
            <th class="num col-low">Completion tokens</th>
            <th class="num">Cost</th>
            {latency ? <th class="num col-low" title="Mean duration of the calls, to the last byte">Avg latency</th> : null}
            {previous ? <th class="num col-low">Previous</th> : null}
            {previous ? <th class="num">Change</th> : null}
            <th class="num col-low" title="Calls of models without a price">Unpriced</th>
          </tr>
        </thead>
        <tbody>
          {rows.map((r) => {
            const before = previous?.byGroup.get(groupKey(r.group));
            return (
              <tr class={r.other ? "other" : undefined}>
                {columns.map((c) => (
                  <td>
                    <GroupCell column={c} value={r.group[c.key]} other={r.other} />
                  </td>
                ))}
                <td class="num col-low">{formatCount(r.requests)}</td>
                <td class="num col-low" title={`${formatCount(r.errors)} failed`}>
                  {r.requests > 0n ? formatPercent(Number(r.errors) / Number(r.requests)) : "–"}
                </td>
                <td class="num col-low">
                  <Tokens n={r.promptTokens} />
                </td>
                <td class="num col-low">
                  <Tokens n={r.completionTokens} />
                </td>
                <td class="num">{cost(r)}</td>
                {latency ? (
                  <td class="num col-low">
                    <Latency m={r} />
                  </td>
                ) : null}
                {previous ? <td class="num col-low">{before ? previousCost(before) : "–"}</td> : null}
                {previous ? <td class="num">{change(r.costNano, before)}</td> : null}
                <td class="num col-low">{r.unpricedRequests > 0n ? <span class="badge warn">{formatCount(r.unpricedRequests)}</span> : "–"}</td>
              </tr>
            );
          })}
        </tbody>
        <tfoot>
          <tr class="total">
            <th colspan={columns.length}>Total</th>
            <td class="num col-low">{formatCount(totals.requests)}</td>
            <td class="num col-low">{totals.requests > 0n ? formatPercent(Number(totals.errors) / Number(totals.requests)) : "–"}</td>
            <td class="num col-low">
              <Tokens n={totals.promptTokens} />
            </td>
            <td class="num col-low">
              <Tokens n={totals.completionTokens} />
            </td>
            <td class="num">{cost(totals)}</td>
            {latency ? (
              <td class="num col-low">
                <Latency m={totals} />
              </td>
            ) : null}
            {previous ? <td class="num col-low">{previousCost(previous.totals)}</td> : null}
            {previous ? <td class="num">{change(totals.costNano, previous.totals)}</td> : null}
            <td class="num col-low">{totals.unpricedRequests > 0n ? <span class="badge warn">{formatCount(totals.unpricedRequests)}</span> : "–"}</td>
          </tr>
        </tfoot>
      </table>
    </div>
  );
}
