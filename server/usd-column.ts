// One precision rule per money column: every cell of a column shows the same number of decimals,
// chosen from the column's largest value so that it keeps three significant digits (at least 2
// decimals, at most 9, the nano-dollar), and the exact amount goes in the cell's tooltip. A value
// too small for the column's decimals shows as "<$0.0001" rather than a misleading $0.0000.
// Digits come from the exact decimal strings (no float arithmetic on money).

const MIN_DIGITS = 2;
const MAX_DIGITS = 9;

/** Decimals a column needs: three significant digits of its largest absolute value. */
export function columnDigits(decimals: readonly string[]): number {
  let largest = 0;
  for (const d of decimals) largest = Math.max(largest, Math.abs(Number(d)));
  if (largest === 0) return MIN_DIGITS;
  // 12.3 → 2 (2 − 1 → at least 2), 0.375 → 3, 0.0000735 → 7.
  const digits = 2 - Math.floor(Math.log10(largest));
  return Math.min(MAX_DIGITS, Math.max(MIN_DIGITS, digits));
}

/** `decimal` (an exact USD string) rounded half up to `digits` decimals, with a $ and thousands separators. */
export function formatUsdDigits(decimal: string, digits: number): string {
  const negative = decimal.startsWith("-");
  const [whole = "0", fraction = ""] = (negative ? decimal.slice(1) : decimal).split(".");
  const padded = (fraction + "0".repeat(MAX_DIGITS)).slice(0, MAX_DIGITS + 1);
  // Integer arithmetic on the digits: value in units of 10^-digits, rounded half up.
  const scaled = BigInt(whole + padded.slice(0, digits)) + (Number(padded[digits] ?? "0") >= 5 ? 1n : 0n);
  if (scaled === 0n && /[1-9]/.test(whole + fraction)) return `${negative ? "−" : ""}<$${(1 / 10 ** digits).toFixed(digits)}`;
  const text = scaled.toString().padStart(digits + 1, "0");
  const int = text.slice(0, text.length - digits);
  const frac = text.slice(text.length - digits);
  return `${negative ? "−" : ""}$${BigInt(int).toLocaleString("en-US")}${digits > 0 ? `.${frac}` : ""}`;
}

/** Decimals that show every value of a column exactly (at least 2): prices, set by hand, are exact. */
export function exactDigits(decimals: readonly string[]): number {
  let digits = MIN_DIGITS;
  for (const d of decimals) digits = Math.max(digits, (d.split(".")[1] ?? "").replace(/0+$/, "").length);
  return Math.min(MAX_DIGITS, digits);
}
