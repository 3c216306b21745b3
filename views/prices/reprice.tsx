import { formatCount } from "../../server/format.ts";
import { formatNanoAsUsd } from "../../server/money.ts";
import type { RepricePreview } from "../../server/prices/reprice-preview.ts";
import { CSRF_FIELD } from "../../server/sessions/csrf.ts";
import { columnDigits, formatUsdDigits } from "../../server/usd-column.ts";
import { formatInZone } from "../../server/zoned-format.ts";
import { FormError } from "../components/bits.tsx";

export interface RepriceProps {
  form: { from: string; to: string };
  tz: string;
  csrfToken: string;
  preview: RepricePreview | null;
  error: string | null;
  /** Calls re-priced by the confirmed run this page was redirected from. */
  done: number | null;
}

/** /prices/reprice: a range, what re-pricing it changes, and a confirm button. */
export function RepricePage({ form, tz, csrfToken, preview, error, done }: RepriceProps) {
  const money = preview ? [formatNanoAsUsd(preview.beforeNano), formatNanoAsUsd(preview.afterNano), formatNanoAsUsd(preview.afterNano - preview.beforeNano)] : [];
  const digits = columnDigits(money);
  return (
    <>
      <hgroup>
        <h1>Re-price calls</h1>
        <p>
          After a price is added or fixed, recorded calls keep their cost until they are re-priced with the prices now in the catalog. <a href="/prices">Back to prices</a>
        </p>
      </hgroup>
      {done !== null ? (
        <p class="notice ok" role="status">
          Re-priced {formatCount(done)} calls. Spend, reports and exports now use the new costs.
        </p>
      ) : null}
      <form method="get" action="/prices/reprice" class="reprice-range">
        <div class="price-fields">
          <label>
            From ({tz})
            <input type="text" name="from" value={form.from} placeholder="start of this month" />
          </label>
          <label>
            To ({tz}, exclusive)
            <input type="text" name="to" value={form.to} placeholder="now" />
          </label>
        </div>
        <small class="muted">A date (midnight in {tz}) or an instant such as 2026-11-01T09:00:00Z; an empty "To" is now.</small>
        <button type="submit" class="secondary">
          Preview
        </button>
      </form>
      <FormError error={error} />
      {preview ? (
        <article class="reprice-preview">
          <h2>
            {formatInZone(preview.from, tz)} – {formatInZone(preview.to, tz)} <small class="muted">({tz})</small>
          </h2>
          <p>
            <strong>{formatCount(preview.callsChanged)}</strong> of {formatCount(preview.callsScanned)} calls get a different cost
            {preview.callsNewlyPriced > 0 ? `, ${formatCount(preview.callsNewlyPriced)} of them unpriced until now` : ""}.
          </p>
          {preview.callsChanged > 0 ? (
            <p>
              Their cost goes from <span title={`$${money[0]}`}>{formatUsdDigits(money[0]!, digits)}</span> to{" "}
              <span title={`$${money[1]}`}>{formatUsdDigits(money[1]!, digits)}</span> (
              <span title={`$${money[2]}`}>{money[2]!.startsWith("-") ? formatUsdDigits(money[2]!, digits) : `+${formatUsdDigits(money[2]!, digits)}`}</span>).
            </p>
          ) : null}
          {preview.callsChanged > 0 && !error ? (
            <form method="post" action="/prices/reprice">
              <input type="hidden" name={CSRF_FIELD} value={csrfToken} />
              <input type="hidden" name="from" value={String(preview.from)} />
              <input type="hidden" name="to" value={String(preview.to)} />
              <button type="submit">Re-price {formatCount(preview.callsChanged)} calls</button>
            </form>
          ) : error ? null : (
            <p class="muted">Nothing to change in this range.</p>
          )}
        </article>
      ) : null}
    </>
  );
}
