import { describe, expect, it } from "vitest";
import { makeCall } from "../factories.ts";
import { record, useSignedInServer } from "../pages/page-client.ts";

// The /keys and /budgets pages over plain HTTP with a signed-in user: the same rules as the API,
// the key shown once, everything from a request escaped.

const app = useSignedInServer({ AUTH_MODE: "both", UPSTREAM_API_KEY: "sk-upstream-0000000000000000" });

describe("/keys", () => {
  it("issues a key and shows it once; the list shows only its prefix", async () => {
    const res = await app.user.post("/keys", { _csrf: app.user.csrf, name: "search-prod", team: "<b>ml</b>", project: "", models: "", expires_at: "", rpm: "600", tpm: "" });
    expect(res.status).toBe(200);
    const page = await res.text();
    const secret = /(tb_[0-9A-Za-z]{43})/.exec(page)?.[1];
    expect(secret).toBeDefined();
    expect(page).toContain("&lt;b&gt;ml&lt;/b&gt;");
    expect(page).not.toContain("<b>ml</b>");
    const again = await (await app.user.get("/keys")).text();
    expect(again).not.toContain(secret);
    expect(again).toContain(`${secret!.slice(0, 11)}…`);
    expect(again).toContain("600 rpm");
  });

  it("refuses what POST /api/keys refuses, naming the field", async () => {
    const res = await app.user.post("/keys", { _csrf: app.user.csrf, name: "x", team: "", project: "", models: "", expires_at: "", rpm: "-3", tpm: "" });
    expect(res.status).toBe(400);
    expect(await res.text()).toContain("rpm: must be at least 1");
  });

  it("revokes and rotates from the page", async () => {
    const list = (await (await app.server.api("/api/keys")).json()) as { data: Array<{ id: string; name: string }> };
    const id = list.data.find((k) => k.name === "search-prod")!.id;
    const rotated = await app.user.post(`/keys/${id}/rotate`, { _csrf: app.user.csrf, grace_seconds: "60" });
    expect(await rotated.text()).toMatch(/New key for <strong>search-prod<\/strong>[\s\S]*tb_[0-9A-Za-z]{43}/);
    const revoked = await app.user.post(`/keys/${id}/revoke`, { _csrf: app.user.csrf });
    expect(revoked.status).toBe(303);
    const after = (await (await app.server.api("/api/keys")).json()) as { data: Array<{ id: string; status: string }> };
    expect(after.data.find((k) => k.id === id)!.status).toBe("revoked");
  });
});

describe("/budgets", () => {
  it("adds a budget and shows spend so far, projection and the burn chart", async () => {
    await record(app.server, { call: makeCall({ createdAt: Date.now() - 60_000, team: "ml", costNano: 2_500_000_000 }) });
    const res = await app.user.post("/budgets", { _csrf: app.user.csrf, scope: "team", target: "ml", amount_usd: "10.00", period: "monthly", timezone: "Europe/London", soft_thresholds: "20, 80", hard: "true" });
    expect(res.status).toBe(303);
    const page = await (await app.user.get("/budgets")).text();
    expect(page).toContain("$2.50");
    expect(page).toContain("Past 20% of the budget.");
    expect(page).toMatch(/data-chart="[^"]*spent/);
  });

  it("refuses a float amount and an unknown zone, naming the field", async () => {
    const bad = await app.user.post("/budgets", { _csrf: app.user.csrf, scope: "team", target: "ml", amount_usd: "1e3", period: "monthly", timezone: "Europe/London", soft_thresholds: "", hard: "true" });
    expect(bad.status).toBe(400);
    expect(await bad.text()).toContain("amount_usd: must be a plain decimal string");
    const zone = await app.user.post("/budgets", { _csrf: app.user.csrf, scope: "team", target: "ml", amount_usd: "10", period: "monthly", timezone: "Mars/Olympus", soft_thresholds: "", hard: "true" });
    expect(await zone.text()).toContain("timezone: unknown IANA time zone");
  });
});
