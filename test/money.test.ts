import { describe, expect, it } from "vitest";
import {
  MoneyError,
  callCostNano,
  divRoundHalfUp,
  formatMicroAsUsd,
  formatNanoAsUsd,
  parseUsdToMicro,
  percentChange,
  prorate,
  usdNumberToMicro,
} from "../server/money.ts";

describe("money is exact: integer micro-USD prices, nano-USD costs, one half-up rounding", () => {
  it.each([
    ["0.03", 30_000],
    ["0.375", 375_000],
    ["0.025", 25_000],
    ["0", 0],
    ["0.000001", 1],
    ["1", 1_000_000],
    ["12.5", 12_500_000],
    ["999999999.999999", 999_999_999_999_999],
  ])("parses %s USD to %i micro-USD", (text, micro) => {
    expect(parseUsdToMicro(text)).toBe(micro);
  });

  it.each([
    [0.03, "not a number"],
    ["-0.03", "negative"],
    ["0.0000001", "more than 6 decimals"],
    ["1e-3", "plain decimal"],
    ["", "plain decimal"],
    [".5", "plain decimal"],
    ["5.", "plain decimal"],
    ["01.5", "plain decimal"],
    [" 0.03", "plain decimal"],
    ["0,03", "plain decimal"],
    ["Infinity", "plain decimal"],
    ["1000000000", "plain decimal"],
    [null, "not a number"],
  ])("rejects %j (%s)", (value, why) => {
    expect(() => parseUsdToMicro(value)).toThrow(MoneyError);
    expect(() => parseUsdToMicro(value)).toThrow(new RegExp(why === "not a number" ? "decimal string" : why));
  });

  it.each([
    [0.03, 30_000],
    [0.375, 375_000],
    [0.1, 100_000],
    [2, 2_000_000],
  ])("reads the JSON number %d exactly (/v1/models pricing)", (n, micro) => {
    expect(usdNumberToMicro(n)).toBe(micro);
  });

  it.each([[1e-7], [-1], [Number.NaN], [0.1234567]])("rejects the JSON number %d", (n) => {
    expect(() => usdNumberToMicro(n)).toThrow(MoneyError);
  });

  it.each([
    [30_000, "0.03"],
    [375_000, "0.375"],
    [0, "0"],
    [2_000_000, "2"],
    [1, "0.000001"],
  ])("formats %i micro-USD as %s", (micro, text) => {
    expect(formatMicroAsUsd(micro)).toBe(text);
  });

  it.each([
    [0n, "0.000000000"],
    [1n, "0.000000001"],
    [12_345_678_901n, "12.345678901"],
    [1_000_000_000n, "1.000000000"],
    [-5n, "-0.000000005"],
    // Past 2^53: a float sum would already have lost the last digits.
    [123_456_789_012_345_678_901n, "123456789012.345678901"],
  ])("formats %s nano-USD as %s", (nano, text) => {
    expect(formatNanoAsUsd(nano)).toBe(text);
  });

  it.each([
    // prompt, completion, in, out, nano
    [1000, 1000, 30_000, 30_000, 60_000], // 2000 tokens at $0.03/M = $0.00006
    [1, 0, 30_000, 30_000, 30], // 1 token = 30 nano
    [1, 0, 1, 0, 0], // 0.001 nano rounds down
    [1, 0, 500, 0, 1], // exactly 0.5 nano rounds half up
    [1, 0, 499, 0, 0],
    [3, 0, 500, 0, 2], // 1.5 → 2
    [null, 7, 90_000, 290_000, 2_030],
    [null, null, 90_000, 290_000, 0],
    [1_000_000, 1_000_000, 600_000, 600_000, 1_200_000_000], // $1.20
  ])("cost of %s + %s tokens at %i/%i micro is %i nano", (p, c, i, o, nano) => {
    expect(callCostNano(p, c, i, o)).toBe(nano);
  });

  it("rejects negative or fractional token counts", () => {
    expect(() => callCostNano(-1, 0, 1, 1)).toThrow(MoneyError);
    expect(() => callCostNano(1.5, 0, 1, 1)).toThrow(MoneyError);
  });

  it.each([
    [5n, 2n, 3n],
    [4n, 2n, 2n],
    [7n, 3n, 2n],
    [8n, 3n, 3n],
    [-5n, 2n, -3n],
    [0n, 9n, 0n],
  ])("divRoundHalfUp(%s, %s) = %s", (a, b, q) => {
    expect(divRoundHalfUp(a, b)).toBe(q);
  });

  it.each([
    [150n, 100n, "50.00"],
    [50n, 100n, "-50.00"],
    [100n, 100n, "0.00"],
    [1n, 3n, "-66.67"],
    [2n, 3n, "-33.33"],
    [200n, 3n, "6566.67"],
    [5n, 0n, null],
  ])("percentChange(%s, %s) = %s", (cur, prev, pct) => {
    expect(percentChange(cur, prev)).toBe(pct);
  });

  it("prorates with one rounding", () => {
    expect(prorate(10n, 31n, 3n)).toBe(103n); // 103.33
    expect(prorate(10n, 3n, 2n)).toBe(15n);
    expect(prorate(1n, 1n, 2n)).toBe(1n); // 0.5 → 1
  });
});
