import type { KeyNames } from "../../server/keys/key-names-store.ts";
import { formatNanoAsUsd } from "../../server/money.ts";
import { formatCount } from "../../server/format.ts";
import { columnDigits } from "../../server/usd-column.ts";
import { CSRF_FIELD } from "../../server/sessions/csrf.ts";
import { KeyId } from "../components/bits.tsx";
import { Usd } from "../components/usd.tsx";
import { IssuedKeys, type IssuedKeysProps } from "./issued-keys.tsx";

interface KeyRow {
  keyId: string;
  requests: bigint;
  costNano: bigint;
}

export interface KeyNamesProps {
  keys: KeyRow[];
  names: KeyNames;
  saved: boolean;
  csrfToken: string;
}

/** /keys: the keys tollbooth issues, then names for key fingerprints. */
export function KeysPage({ issued, named }: { issued: IssuedKeysProps; named: KeyNamesProps }) {
  return (
    <>
      <h1>Keys</h1>
      <IssuedKeys {...issued} />
      <KeyNamesSection {...named} />
    </>
  );
}

/** Name key fingerprints so finance reads "search-prod (fe303d..Lm4R)" everywhere. */
function KeyNamesSection({ keys, names, saved, csrfToken }: KeyNamesProps) {
  const digits = columnDigits(keys.map((k) => formatNanoAsUsd(k.costNano)));
  return (
    <section id="key-names">
      <h2>Key names</h2>
      <p>Name a key fingerprint once; Overview, Spend, Requests, report emails and CSV exports then show the name beside it.</p>
      {saved ? (
        <p class="notice ok" role="status">
          Name saved.
        </p>
      ) : null}
      {keys.length === 0 ? (
        <p class="empty">No keys have made calls this month yet.</p>
      ) : (
        <div class="table-scroll">
          <table class="striped keys">
            <thead>
              <tr>
                <th>Key</th>
                <th class="num">Requests this month</th>
                <th class="num">Cost this month</th>
                <th>Name</th>
              </tr>
            </thead>
            <tbody>
              {keys.map((k) => (
                <tr>
                  <td>
                    <KeyId keyId={k.keyId} />
                  </td>
                  <td class="num">{formatCount(k.requests)}</td>
                  <td class="num">
                    <Usd usd={formatNanoAsUsd(k.costNano)} digits={digits} />
                  </td>
                  <td>
                    <form method="post" action="/keys/name" class="key-name-form">
                      <input type="hidden" name={CSRF_FIELD} value={csrfToken} />
                      <input type="hidden" name="key_id" value={k.keyId} />
                      <input type="text" name="name" value={names.get(k.keyId) ?? ""} maxlength={64} placeholder="e.g. search-prod" aria-label={`Name of key ${k.keyId}`} />
                      <button type="submit" class="outline">
                        Save
                      </button>
                    </form>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}
