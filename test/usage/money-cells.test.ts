import { describe, expect, it } from "vitest";
import { columnDigits, exactDigits, formatUsdDigits } from "../../server/usd-column.ts";
import { useSignedInServer } from "../pages/page-client.ts";
import { recordCalls, spendCall } from "./spend-fixtures.ts";

// Money on the pages: an unpriced model's cost is "unpriced", never $0.00; each money column
// has one precision with the exact amount in the tooltip; prices' dates are shown as entered, in
// the zone the page names.

const now = Date.parse("2026-11-20T12:00:00Z");

describe("money cells", () => {
  const app = useSignedInServer({ REPORT_TZ: "Europe/London" }, { now: () => now });
  // The text of every cell in the column headed `header`, rows of tbody and tfoot.
  const column = (html: string, header: string) => {
    const table = html.slice(html.indexOf('<table class="striped usage"'), html.indexOf("</table>"));
    const headers = [...table.matchAll(/<th[^>]*>([^<]*)<\/th>/g)].map((m) => m[1]);
    const rows = [...table.matchAll(/<tr[^>]*>([\s\S]*?)<\/tr>/g)].slice(1).map((m) => [...m[1]!.matchAll(/<t[dh][^>]*>([\s\S]*?)<\/t[dh]>/g)].map((c) => c[1]!.replace(/<[^>]+>/g, "")));
    const i = headers.indexOf(header);
    return rows.map((r) => r[i]!);
  };

  it("formats a column with one precision, exact in the tooltip", () => {
    expect(columnDigits(["12.345678901", "0.000021200"])).toBe(2);
    expect(columnDigits(["0.000073500", "0.000021200"])).toBe(7);
    expect(["0.000073500", "0.000021200"].map((v) => formatUsdDigits(v, 7))).toEqual(["$0.0000735", "$0.0000212"]);
    expect(formatUsdDigits("0.000021200", 2)).toBe("<$0.01");
    expect(formatUsdDigits("1234.005", 2)).toBe("$1,234.01");
    expect(exactDigits(["0.2", "0.375", "0.03"])).toBe(3);
  });

  it("shows an unpriced model's cost as unpriced, and one precision per cost column", async () => {
    await recordCalls(app.server, [
      spendCall({ createdAt: now - 3_600_000, model: "acme/no-price", promptTokens: 5000 }),
      spendCall({ createdAt: now - 3_600_000, model: "meta-llama/Llama-3.1-8B-Instruct", promptTokens: 700, completionTokens: 10 }),
      spendCall({ createdAt: now - 3_600_000, model: "Qwen/QwQ-32B", promptTokens: 300_000, completionTokens: 100_000 }),
    ]);
    const page = await (await app.user.get("/spend?by=model")).text();
    const row = /<tr>(?:(?!<\/tr>)[\s\S])*acme\/no-price(?:(?!<\/tr>)[\s\S])*<\/tr>/.exec(page)?.[0] ?? "";
    expect(row).toContain(">unpriced</span>");
    expect(row).not.toContain("$0.00");
    const costs = column(page, "Cost");
    // One rule for the column: 3 significant digits of its largest amount; a smaller one says so.
    expect(costs).toEqual(["$0.0740", "&lt;$0.0001", "unpriced", "$0.0740*"]);
  });

  it("shows a price's effective date as entered, in the page's zone", async () => {
    const res = await app.server.api("/api/prices", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ model: "acme/dated", input_usd_per_mtok: "0.2", output_usd_per_mtok: "0.375", effective_from: "2026-09-01" }),
    });
    expect(res.status).toBe(201);
    const page = await (await app.user.get("/prices")).text();
    const row = /<tr>(?:(?!<\/tr>)[\s\S])*acme\/dated(?:(?!<\/tr>)[\s\S])*<\/tr>/.exec(page)?.[0] ?? "";
    expect(row).toContain(">2026-09-01</span>");
    expect(row).not.toContain(">2026-08-31");
    expect(page).toContain("Effective from (Europe/London)");
    expect(row).toContain(">$0.200<");
    expect(row).toContain(">$0.375<");
  });
});
