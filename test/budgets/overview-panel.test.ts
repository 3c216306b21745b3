import { describe, expect, it } from "vitest";
import { makeCall } from "../factories.ts";
import { record, useSignedInServer } from "../pages/page-client.ts";

// The Overview's "Budgets closest to their limit" panel on the real server: absent without
// budgets, then the most-used budgets first, each linking to /budgets.

const app = useSignedInServer();
const overview = async () => (await (await app.user.get("/")).text()).replace(/<[^>]+>/g, " ").replace(/\s+/g, " ");
const budget = (target: string, amount: string) =>
  app.server.api("/api/budgets", { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ scope: "team", target, amount_usd: amount, period: "monthly", timezone: "UTC" }) });

describe("Overview budget panel", () => {
  it("lists the budgets by the share used, most first, and links to /budgets", async () => {
    expect(await overview()).not.toContain("Budgets closest to their limit");
    for (const [team, amount] of [["web", "100.00"], ["ml", "10.00"], ["ops", "50.00"]] as const) expect((await budget(team, amount)).status).toBe(201);
    await record(
      app.server,
      { call: makeCall({ createdAt: Date.now() - 1_000, team: "ml", costNano: 9_000_000_000 }) }, // 90 % of $10
      { call: makeCall({ createdAt: Date.now() - 1_000, team: "web", costNano: 30_000_000_000 }) }, // 30 % of $100
      { call: makeCall({ createdAt: Date.now() - 1_000, team: "ops", costNano: 60_000_000_000 }) }, // 120 % of $50
    );
    const html = await (await app.user.get("/")).text();
    const panel = html.slice(html.indexOf('class="budget-watch"'));
    expect(panel).toContain('href="/budgets"');
    const text = (await overview()).slice((await overview()).indexOf("Budgets closest to their limit"));
    expect(text).toMatch(/team ops monthly 120% of \$50\.00 team ml monthly 90% of \$10\.00 team web monthly 30% of \$100\.00/);
  });
});
