import type { TopItem } from "../../server/usage/top-list.ts";
import { KeyId, Named, type NameKind } from "../components/bits.tsx";
import { formatCount } from "../../server/format.ts";
import { columnDigits } from "../../server/usd-column.ts";
import { Usd } from "../components/usd.tsx";

/** A ranked list with a <meter> per row: bar lengths without any style attribute. */
export function TopList({ title, items, kind, empty }: { title: string; items: TopItem[]; kind: NameKind | "key"; empty: string }) {
  const digits = columnDigits(items.map((i) => i.costUsd));
  return (
    <article>
      <h3>{title}</h3>
      {items.length === 0 ? (
        <p class="muted">{empty}</p>
      ) : (
        <ul class="top-list">
          {items.map((item) => (
            <li>
              <div class="row">
                <span>{item.other ? <span class="muted">{item.name}</span> : kind === "key" ? <KeyId keyId={item.name} /> : <Named name={item.name} kind={kind} empty="(none)" />}</span>
                <span class="nowrap" title={`${formatCount(item.requests)} requests`}>
                  <Usd usd={item.costUsd} digits={digits} unpriced={item.unpricedRequests} requests={item.requests} />
                </span>
              </div>
              <meter min={0} max={1} value={item.share} aria-label={`${Math.round(item.share * 100)}% of the month`} />
            </li>
          ))}
        </ul>
      )}
    </article>
  );
}
