import { parse as parseCsv } from "csv-parse/sync";
import { describe, expect, it } from "vitest";
import { useSignedInServer } from "../pages/page-client.ts";
import { recordCalls, spendCall } from "../usage/spend-fixtures.ts";

// Key names: an admin names a fingerprint (API or /keys page) and finance sees
// "search-prod (fe303d..Lm4R)" on Overview, Spend, Requests, in report emails and in CSV.

const now = Date.parse("2026-11-20T12:00:00Z");
const KEY = "fe303d1c9a2b..Lm4R";
const OTHER = "0123456789ab..Zz99";
const LABEL = "search-prod (fe303d..Lm4R)";

describe("key names", () => {
  const app = useSignedInServer({}, { now: () => now });
  const post = (path: string, body: unknown) =>
    app.server.api(path, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) });
  const text = (html: string) => html.replace(/<[^>]+>/g, "");

  it("names a key by API and shows the name wherever keys appear", async () => {
    await recordCalls(app.server, [spendCall({ createdAt: now - 60_000, keyId: KEY }), spendCall({ createdAt: now - 60_000, keyId: OTHER })]);
    const res = await post(`/api/keys/${encodeURIComponent(KEY)}/name`, { name: "search-prod" });
    expect(await res.json()).toEqual({ key_id: KEY, name: "search-prod", label: LABEL });
    expect((await (await app.server.api("/api/keys/names")).json()).data).toEqual([{ key_id: KEY, name: "search-prod", label: LABEL }]);

    for (const path of ["/", "/spend?by=key", "/requests"]) {
      const page = text(await (await app.user.get(path)).text());
      expect(page, path).toContain(LABEL);
      expect(page, path).toContain("012345..Zz99"); // an unnamed key keeps its fingerprint
    }

    const csv = parseCsv(await (await app.server.api("/api/usage.csv?group_by=key&from=2026-11-01")).text(), { columns: true }) as Record<string, string>[];
    expect(csv.map((r) => [r.key, r.key_name])).toEqual(expect.arrayContaining([[KEY, "search-prod"], [OTHER, ""]]));

    const report = await post("/api/reports", { name: "keys", kind: "spend", period: "daily", send_at: "09:00", timezone: "UTC", recipients: ["f@example.com"] });
    const { id } = (await report.json()) as { id: number };
    const preview = await (await app.server.api(`/api/reports/${id}/preview?from=2026-11-20&to=2026-11-21`)).text();
    expect(text(preview)).toContain(LABEL);
  });

  it("renames on the Keys page, removes a name with an empty one, and refuses control characters", async () => {
    const page = await app.user.post("/keys/name", { key_id: OTHER, name: "batch-jobs", _csrf: app.user.csrf });
    expect(page.status).toBe(303);
    expect(text(await (await app.user.get("/keys?done=saved")).text())).toContain("batch-jobs (012345..Zz99)");
    expect((await post(`/api/keys/${encodeURIComponent(OTHER)}/name`, { name: "" })).status).toBe(200);
    expect(text(await (await app.user.get("/spend?by=key")).text())).not.toContain("batch-jobs");
    const bad = await post(`/api/keys/${encodeURIComponent(OTHER)}/name`, { name: "a\u0007b" });
    expect(bad.status).toBe(400);
    expect((await bad.json()).error.message).toMatch(/^name: /);
  });
});
