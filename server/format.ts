// Display formatting at the edge (docs/architecture.md, "Money is exact"). Money arrives
// as the API's exact decimal USD string; Intl.NumberFormat formats such strings exactly (no
// float on the way), so nothing here does money arithmetic. Fixed en-US so server-rendered
// numbers look the same for every viewer.

const COUNT = new Intl.NumberFormat("en-US");
const COMPACT = new Intl.NumberFormat("en-US", { notation: "compact", maximumFractionDigits: 1 });
const PERCENT = new Intl.NumberFormat("en-US", { style: "percent", maximumFractionDigits: 1 });
const USD_CENTS = new Intl.NumberFormat("en-US", { style: "currency", currency: "USD" });
// Four decimals below a dollar, fixed, so a column of small amounts lines up ($0.4990, $0.2968).
const USD_SUB_DOLLAR = new Intl.NumberFormat("en-US", { style: "currency", currency: "USD", minimumFractionDigits: 4, maximumFractionDigits: 4 });
// A single small call costs fractions of a micro-dollar; 3 significant digits keep it readable.
const USD_TINY = new Intl.NumberFormat("en-US", { style: "currency", currency: "USD", maximumSignificantDigits: 3 });

type Decimal = `${number}` | string;

/** "$1,234.57", "$0.0123", "$0.00000036"; precision follows the size so tiny costs are not "$0.00". */
export function formatUsd(decimal: Decimal): string {
  // Number() only picks the precision; the formatted digits come from the exact string.
  const magnitude = Math.abs(Number(decimal));
  const value = decimal as Intl.StringNumericLiteral;
  if (magnitude === 0) return USD_CENTS.format(0);
  if (magnitude >= 1) return USD_CENTS.format(value);
  if (magnitude >= 0.01) return USD_SUB_DOLLAR.format(value);
  return USD_TINY.format(value);
}

/** 1234567 → "1,234,567". */
export function formatCount(n: number | bigint): string {
  return COUNT.format(n);
}

/** 1234567 → "1.2M"; small numbers stay exact ("950"). */
export function formatTokens(n: number | bigint | null | undefined): string {
  if (n === null || n === undefined) return "–";
  return COMPACT.format(n);
}

/** 0.1234 → "12.3%". */
export function formatPercent(ratio: number): string {
  return PERCENT.format(ratio);
}

/** Milliseconds as "850 ms" or "12.3 s". */
export function formatMs(ms: number | null | undefined): string {
  if (ms === null || ms === undefined) return "–";
  if (ms < 1000) return `${Math.round(ms)} ms`;
  return `${(ms / 1000).toFixed(ms < 10_000 ? 2 : 1)} s`;
}

/** "+12.5%" / "−3.3%" from a percent string such as money.ts's percentChange gives. */
export function formatChange(percent: string | null): string {
  if (percent === null) return "new";
  const n = Number(percent);
  return `${n > 0 ? "+" : n < 0 ? "−" : "±"}${Math.abs(n).toFixed(1)}%`;
}
