import { describe, expect, it } from "vitest";
import { makeCall } from "../factories.ts";
import { record, useSignedInServer } from "../pages/page-client.ts";

// The spend page's Download CSV holds what its table shows: the rows of /api/usage.csv, then the
// previous period's cost and the change per row (when the page compares), and the Total row.

const now = Date.parse("2026-11-20T12:00:00Z");
const app = useSignedInServer({}, { now: () => now });

const oct = Date.parse("2026-10-10T12:00:00Z");
const nov = Date.parse("2026-11-10T12:00:00Z");

async function page(path: string): Promise<string> {
  const res = await app.user.get(path);
  const text = await res.text();
  expect(res.status, text).toBe(200);
  return text;
}

const csvHref = (html: string) => /href="(\/spend\/export\.csv\?[^"]+)"/.exec(html)![1]!.replaceAll("&amp;", "&");

describe("spend CSV", () => {
  it("has Previous, Change and the Total row, with the table's figures", async () => {
    await record(
      app.server,
      { call: makeCall({ createdAt: oct, team: "alpha", costNano: 1_000_000_000 }) },
      { call: makeCall({ createdAt: nov, team: "alpha", costNano: 1_500_000_000 }) },
      { call: makeCall({ createdAt: nov, team: "beta", costNano: 250_000_000 }) },
      { call: makeCall({ createdAt: oct, team: "gamma", costNano: 2_000_000_000 }) },
    );
    const html = await page("/spend?by=team&tz=UTC");
    // The table: alpha +50 %, beta new, the total −41.7 % (1.75 against 3.00).
    expect(html).toContain("+50.0%");
    expect(html).toContain("−41.7%");
    const href = csvHref(html);
    expect(href).toContain("compare_from=2026-10-01T00%3A00%3A00.000Z&compare_to=2026-11-01T00%3A00%3A00.000Z");
    const res = await app.user.get(href);
    expect(res.headers.get("content-disposition")).toBe('attachment; filename="spend-by-team-2026-11.csv"');
    expect((await res.text()).split("\r\n")).toEqual([
      "team,requests,errors,prompt_tokens,completion_tokens,cost_usd,unpriced_requests,previous_cost_usd,change_pct",
      "alpha,1,0,12,30,1.500000000,0,1.000000000,50.00",
      "beta,1,0,12,30,0.250000000,0,,new",
      "Total,2,0,24,60,1.750000000,0,3.000000000,-41.67",
      "",
    ]);
  });

  it("without the comparison: the rows of /api/usage.csv and the Total row", async () => {
    const html = await page("/spend?by=team&then=model&tz=UTC&compare=0");
    const href = csvHref(html);
    expect(href).not.toContain("compare_from");
    const csv = await (await app.user.get(href)).text();
    const api = await (await app.server.api(href.replace("/spend/export.csv", "/api/usage.csv"))).text();
    expect(csv.startsWith(api)).toBe(true);
    expect(csv.slice(api.length)).toBe("Total,,2,0,24,60,1.750000000,0\r\n");
  });

  it("refuses half a comparison", async () => {
    const res = await app.user.get("/spend/export.csv?from=2026-11-01&to=2026-12-01&tz=UTC&group_by=team&compare_from=2026-10-01T00:00:00.000Z");
    expect(res.status).toBe(400);
    expect(await res.text()).toContain("compare_to");
  });
});
