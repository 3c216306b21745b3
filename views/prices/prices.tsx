import type { Price } from "../../server/db/schema.ts";
import { formatMicroAsUsd } from "../../server/money.ts";
import { CSRF_FIELD } from "../../server/sessions/csrf.ts";
import { Named, FormError } from "../components/bits.tsx";
import { exactDigits } from "../../server/usd-column.ts";
import { formatInZone } from "../../server/zoned-format.ts";
import { Usd } from "../components/usd.tsx";
import { formatCount } from "../../server/format.ts";

export interface PriceForm {
  model: string;
  input_usd_per_mtok: string;
  output_usd_per_mtok: string;
  effective_from: string;
}

export interface PricesProps {
  rows: Array<{ price: Price; inEffect: boolean }>;
  unpriced: Array<{ model: string; requests: number }>;
  form: PriceForm;
  error: string | null;
  added: Price | null;
  csrfToken: string;
  tz: string;
  limited: boolean;
}

export function PricesPage({ rows, unpriced, form, error, added, csrfToken, tz, limited }: PricesProps) {
  // Each price column shows every price exactly, all with the same number of decimals.
  const inputDigits = exactDigits(rows.map((r) => formatMicroAsUsd(r.price.inputMicroPerMtok)));
  const outputDigits = exactDigits(rows.map((r) => formatMicroAsUsd(r.price.outputMicroPerMtok)));
  return (
    <>
      <hgroup>
        <h1>Prices</h1>
        <p>
          USD per 1M tokens, effective-dated: a call is priced by the row in effect when it was made. After adding or fixing a price,{" "}
          <a href="/prices/reprice">re-price the calls</a> it should cover.
        </p>
      </hgroup>
      {added ? (
        <p class="notice ok" role="status">
          Added a price for <strong>{added.model}</strong> from {formatInZone(added.effectiveFrom, tz)} ({tz}). New calls use it
          now; calls already recorded keep their cost until{" "}
          <a href={`/prices/reprice?${new URLSearchParams({ from: new Date(Math.max(added.effectiveFrom, 0)).toISOString() })}`}>re-priced</a>.
        </p>
      ) : null}
      {unpriced.length > 0 ? (
        <article class="notice">
          <strong>Models without a price this month:</strong>{" "}
          {unpriced.map((u, i) => (
            <>
              {i > 0 ? ", " : ""}
              <a href={`/prices?${new URLSearchParams({ model: u.model })}#add-price`}>{u.model}</a> ({formatCount(u.requests)} calls)
            </>
          ))}
        </article>
      ) : null}
        <article id="add-price">
          <h2>Add a price</h2>
          <form method="post" action="/prices">
            <input type="hidden" name={CSRF_FIELD} value={csrfToken} />
            <div class="price-fields">
              <label>
                Model
                <input type="text" name="model" value={form.model} required maxlength={256} placeholder="meta-llama/Llama-3.1-8B-Instruct" />
              </label>
              <label>
                Input, USD per 1M tokens
                <input type="text" name="input_usd_per_mtok" value={form.input_usd_per_mtok} required inputmode="decimal" placeholder="0.03" />
              </label>
              <label>
                Output, USD per 1M tokens
                <input type="text" name="output_usd_per_mtok" value={form.output_usd_per_mtok} required inputmode="decimal" placeholder="0.03" />
              </label>
              <label>
                Effective from ({tz})
                <input type="text" name="effective_from" value={form.effective_from} placeholder="now" aria-describedby="effective-help" />
              </label>
            </div>
            <small id="effective-help" class="muted">
              Effective from: empty for now, a date (midnight in {tz}) or an instant such as 2025-03-01T09:00:00Z.
            </small>
            <FormError error={error} />
            <button type="submit" class="add-price">Add price</button>
          </form>
        </article>
        <section class="catalog">
          <h2>Catalog</h2>
          {rows.length === 0 ? (
            <p class="empty">No prices yet. Add one with the form, or set UPSTREAM_API_KEY so the nightly sync reads Nscale's /v1/models.</p>
          ) : (
            <div class="table-scroll">
              <table class="striped prices">
                <thead>
                  <tr>
                    <th>Model</th>
                    <th class="num">Input</th>
                    <th class="num">Output</th>
                    <th class="col-low">Effective from ({tz})</th>
                    <th class="col-low">Source</th>
                  </tr>
                </thead>
                <tbody>
                  {rows.map(({ price, inEffect }) => (
                    <tr class={inEffect ? undefined : "superseded"}>
                      <td>
                        <Named name={price.model} kind="model" />
                        {inEffect ? null : <small class="muted"> (superseded or future)</small>}
                      </td>
                      <td class="num">
                        <Usd usd={formatMicroAsUsd(price.inputMicroPerMtok)} digits={inputDigits} />
                      </td>
                      <td class="num">
                        <Usd usd={formatMicroAsUsd(price.outputMicroPerMtok)} digits={outputDigits} />
                      </td>
                      <td class="nowrap col-low">
                        {/* Seeded prices apply to every call ever made: effective from the epoch. */}
                        {price.effectiveFrom <= 0 ? <span class="muted">always</span> : <span title={new Date(price.effectiveFrom).toISOString()}>{formatInZone(price.effectiveFrom, tz)}</span>}
                      </td>
                      <td class="col-low">
                        <span class={`badge ${price.source === "admin" ? "ok" : ""}`}>{price.source}</span>
                      </td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          )}
          {limited ? <p class="muted">Showing the newest rows; GET /api/prices pages through all of them.</p> : null}
        </section>
    </>
  );
}
