import { formatCount } from "../../server/format.ts";
import { formatUsdDigits } from "../../server/usd-column.ts";

// A money cell: the column's precision (usd-column.ts), the exact amount in the tooltip, and
// "unpriced" instead of a zero when every call behind it is of a model without a price.

export function Usd({ usd, digits, unpriced = 0, requests }: { usd: string; digits: number; unpriced?: number | bigint; requests?: number | bigint }) {
  if (requests !== undefined && BigInt(requests) > 0n && BigInt(unpriced) === BigInt(requests)) {
    return (
      <span class="badge warn" title={`${formatCount(unpriced)} ${BigInt(unpriced) === 1n ? "call" : "calls"} of a model without a price: no cost known`}>
        unpriced
      </span>
    );
  }
  const note = BigInt(unpriced) > 0n ? ` + ${formatCount(unpriced)} unpriced calls (no cost known)` : "";
  return <span title={`$${usd}${note}`}>{formatUsdDigits(usd, digits)}{note ? "*" : ""}</span>;
}
