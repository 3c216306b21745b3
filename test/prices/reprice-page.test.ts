import { describe, expect, it } from "vitest";
import { useSignedInServer } from "../pages/page-client.ts";
import { getJson, recordCalls, spendCall } from "../usage/spend-fixtures.ts";

// Re-pricing from the Prices page: a range, a preview of what changes, then confirm. The
// unpriced-calls warnings on Overview and Spend link to it.

const now = Date.parse("2026-11-20T12:00:00Z");
const MODEL = "acme/late-priced";

describe("/prices/reprice", () => {
  const app = useSignedInServer({}, { now: () => now });
  const text = (html: string) => html.replace(/<[^>]+>/g, "").replace(/\s+/g, " ");

  it("previews, then re-prices the range on confirmation", async () => {
    await recordCalls(app.server, [
      spendCall({ createdAt: Date.parse("2026-11-05T10:00:00Z"), model: MODEL, promptTokens: 1_000_000, completionTokens: 0 }),
      spendCall({ createdAt: Date.parse("2026-11-06T10:00:00Z"), model: MODEL, promptTokens: 1_000_000, completionTokens: 0 }),
      spendCall({ createdAt: Date.parse("2026-11-06T10:00:00Z") }),
    ]);
    // The warnings link to the re-price page.
    expect(await (await app.user.get("/")).text()).toContain('href="/prices/reprice"');
    expect(await (await app.user.get("/spend?by=model")).text()).toContain('href="/prices/reprice?from=2026-11-01T00%3A00%3A00.000Z&amp;to=');

    const added = await app.server.api("/api/prices", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ model: MODEL, input_usd_per_mtok: "0.5", output_usd_per_mtok: "1", effective_from: "2026-11-01" }),
    });
    expect(added.status).toBe(201);

    const preview = await (await app.user.get("/prices/reprice?from=2026-11-01")).text();
    expect(text(preview)).toContain("2 of 3 calls get a different cost, 2 of them unpriced until now.");
    expect(text(preview)).toContain("Their cost goes from $0.00 to $1.00 (+$1.00)");
    // Nothing changed yet.
    expect((await getJson(app.server, "/api/usage?from=2026-11-01")).totals.unpriced_requests).toBe(2);

    const from = /name="from" value="(\d+)"/.exec(preview)?.[1];
    const to = /name="to" value="(\d+)"/.exec(preview)?.[1];
    expect([from, to]).toEqual([String(Date.parse("2026-11-01T00:00:00Z")), String(now)]);
    const res = await app.user.post("/prices/reprice", { from: from!, to: to!, _csrf: app.user.csrf });
    expect(res.status).toBe(303);
    const done = await (await app.user.get(res.headers.get("location")!)).text();
    expect(text(done)).toContain("Re-priced 2 calls.");
    expect(text(done)).toContain("0 of 3 calls get a different cost");
    const usage = await getJson(app.server, "/api/usage?from=2026-11-01");
    expect(usage.totals.unpriced_requests).toBe(0);
  });

  it("refuses a post without the CSRF token and a bad range with a 400 naming it", async () => {
    expect((await app.user.post("/prices/reprice", { from: "0", to: "1" })).status).toBe(403);
    const bad = await app.user.get("/prices/reprice?from=2026-11-10&to=2026-11-01");
    expect(bad.status).toBe(400);
    expect(await bad.text()).toContain("from: must be before to");
  });
});
