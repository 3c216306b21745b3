import { describe, expect, it } from "vitest";
import { neutraliseCell } from "../../server/usage/usage-csv.ts";

// The cell guard behind /api/usage.csv and /spend/export.csv (over HTTP in usage-api.test.ts).

describe("neutraliseCell", () => {
  it.each(["=1+1", "+1", "-1", "@SUM(A1)", "\tx", "\rx", "=HYPERLINK(\"http://x\")"])("%j becomes text with a leading '", (value) => {
    expect(neutraliseCell(value)).toBe(`'${value}`);
  });

  it.each(["ml-team", "a=b", "", "1-2", " =x", "équipe"])("%j stays as it is", (value) => {
    expect(neutraliseCell(value)).toBe(value);
  });
});
