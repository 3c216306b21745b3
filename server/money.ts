// The only place that does money arithmetic (docs/architecture.md, "Money is exact"). Prices are
// integer micro-USD per 1M tokens; costs and totals are integer nano-USD (1e-9 USD). Arithmetic is
// BigInt so nothing ever passes through a binary float; the API shows money as decimal strings.

export class MoneyError extends Error {}

const MICRO_DECIMALS = 6;
const NANO_DECIMALS = 9;
// Up to 9 integer digits: $999,999,999 per 1M tokens is far past any real price, and keeps
// micro-USD values well inside Number.MAX_SAFE_INTEGER so they can live in JS numbers.
const USD_DECIMAL = /^(0|[1-9]\d{0,8})(?:\.(\d{1,6}))?$/;

/**
 * The whole and fraction digits of a plain decimal USD string matching `pattern` (fraction padded
 * to `decimals`). Refuses numbers (a JSON number may already have lost precision), negatives,
 * exponents and anything else that is not plain decimal text, naming `example` in the message;
 * `tooPrecise`, when given, is the message for a fraction longer than `decimals`.
 */
function usdDigits(value: unknown, pattern: RegExp, decimals: number, example: string, tooPrecise?: string): { whole: string; fraction: string } {
  if (typeof value !== "string") throw new MoneyError(`must be a decimal string such as "${example}", not a number`);
  const m = pattern.exec(value);
  if (!m) {
    if (value.startsWith("-")) throw new MoneyError("must not be negative");
    if (tooPrecise && new RegExp(`^\\d+\\.\\d{${decimals + 1},}$`).test(value)) throw new MoneyError(tooPrecise);
    throw new MoneyError(`must be a plain decimal string such as "${example}" (got ${JSON.stringify(value.slice(0, 40))})`);
  }
  return { whole: m[1]!, fraction: (m[2] ?? "").padEnd(decimals, "0") };
}

/**
 * Parse a decimal USD string such as "0.03" into integer micro-USD (30000), exactly.
 * Rejects floats, negatives, exponents, more than 6 decimals and anything that is not a plain
 * decimal string.
 */
export function parseUsdToMicro(value: unknown): number {
  const { whole, fraction } = usdDigits(value, USD_DECIMAL, MICRO_DECIMALS, "0.03", "has more than 6 decimals (prices are kept in micro-USD)");
  return Number(whole) * 1_000_000 + Number(fraction);
}

/**
 * A price that arrives as a JSON number (Nscale's /v1/models `pricing`). JSON numbers are
 * decimal text; String(n) gives back the shortest decimal that round-trips, which is the text
 * upstream sent for any price with ≤ 15 significant digits, so parsing it is exact.
 */
export function usdNumberToMicro(value: number): number {
  if (!Number.isFinite(value)) throw new MoneyError("must be a finite number");
  return parseUsdToMicro(String(value));
}

/** Integer micro-USD → shortest decimal string ("0.03", "0.375", "2"). */
export function formatMicroAsUsd(micro: number): string {
  if (!Number.isSafeInteger(micro) || micro < 0) throw new MoneyError(`not a micro-USD amount: ${micro}`);
  const s = formatFixed(BigInt(micro), MICRO_DECIMALS);
  return s.replace(/\.?0+$/, "");
}

/** Integer nano-USD → decimal string with all 9 decimals ("12.345678901"). */
export function formatNanoAsUsd(nano: bigint): string {
  return formatFixed(nano, NANO_DECIMALS);
}

function formatFixed(amount: bigint, decimals: number): string {
  const negative = amount < 0n;
  const digits = (negative ? -amount : amount).toString().padStart(decimals + 1, "0");
  const int = digits.slice(0, -decimals);
  return `${negative ? "-" : ""}${int}.${digits.slice(-decimals)}`;
}

/** a / b rounded half away from zero (half up for the non-negative amounts we handle). */
export function divRoundHalfUp(a: bigint, b: bigint): bigint {
  if (b <= 0n) throw new MoneyError("divisor must be positive");
  if (a < 0n) return -divRoundHalfUp(-a, b);
  return (2n * a + b) / (2n * b);
}

/**
 * Cost of one call in nano-USD: round_half_up((prompt × in + completion × out) / 1000).
 * tokens × (micro-USD per 1M tokens) is an amount in pico-USD (1e-6 × 1e-6), so / 1000 is nano-USD.
 * Rounded once per call; missing token counts are 0 (usage_source says why they are missing).
 */
export function callCostNano(
  promptTokens: number | null | undefined,
  completionTokens: number | null | undefined,
  inputMicroPerMtok: number,
  outputMicroPerMtok: number,
): number {
  const p = tokenCount(promptTokens);
  const c = tokenCount(completionTokens);
  const cost = divRoundHalfUp(p * BigInt(inputMicroPerMtok) + c * BigInt(outputMicroPerMtok), 1000n);
  if (cost > BigInt(Number.MAX_SAFE_INTEGER)) throw new MoneyError(`call cost ${cost} nano-USD is not a safe integer`);
  return Number(cost);
}

function tokenCount(n: number | null | undefined): bigint {
  if (n === null || n === undefined) return 0n;
  if (!Number.isSafeInteger(n) || n < 0) throw new MoneyError(`token count must be a non-negative integer, got ${n}`);
  return BigInt(n);
}

/** Change from `previous` to `current` in percent, 2 decimals ("12.50", "-3.33"); null when previous is 0. */
export function percentChange(current: bigint, previous: bigint): string | null {
  if (previous === 0n) return null;
  const basisPoints = divRoundHalfUp((current - previous) * 10_000n, previous);
  return formatFixed(basisPoints, 2);
}

/** amount × numerator / denominator, rounded half up: linear projection of spend over a period. */
export function prorate(amount: bigint, numerator: bigint, denominator: bigint): bigint {
  return divRoundHalfUp(amount * numerator, denominator);
}

const NANO_USD_DECIMAL = /^(0|[1-9]\d{0,8})(?:\.(\d{1,9}))?$/;

/**
 * A USD amount such as "500.00" (a budget) → integer nano-USD, exactly. Strings only (a JSON
 * number may already have lost precision), at most 9 decimals, under $1,000,000,000.
 */
export function parseUsdToNano(value: unknown): bigint {
  const { whole, fraction } = usdDigits(value, NANO_USD_DECIMAL, NANO_DECIMALS, "25.00");
  return BigInt(whole) * 1_000_000_000n + BigInt(fraction);
}

/** Integer nano-USD → "$500.00" (cents, rounded half up), for messages shown to callers. */
export function formatNanoAsDollars(nano: bigint): string {
  const cents = divRoundHalfUp(nano < 0n ? -nano : nano, 10_000_000n);
  return `${nano < 0n ? "-" : ""}$${formatFixed(cents, 2)}`;
}

/**
 * Upper bound of a call's cost in nano-USD, in plain numbers for the serving thread's per-call
 * budget check (BigInt costs more than the check's whole budget of time): every operand is an
 * integer below 2^53 and the quotient is rounded up, so it is never below callCostNano.
 */
export function callCostCeilNano(promptTokens: number, completionTokens: number, inputMicroPerMtok: number, outputMicroPerMtok: number): number {
  return Math.ceil((promptTokens * inputMicroPerMtok + completionTokens * outputMicroPerMtok) / 1000);
}
