import { describe, expect, it } from "vitest";
import { makeCall } from "../factories.ts";
import { record, useSignedInServer } from "../pages/page-client.ts";

// The explorer's key filter takes what people paste (the shown form, a prefix, a suffix), and a
// Failures group links to exactly its own calls (status and error type together).

const KEY_A = "fe303d1c9a2b..Lm4R";
const KEY_B = "fe3999aaaa00..Qx7Z";
const KEY_C = "0123456789ab..Lm4R";

describe("key and failure-group filters", () => {
  const app = useSignedInServer();
  const ids = async (query: string) => {
    const res = await app.server.api(`/api/requests?${query}`);
    const body = await res.json();
    expect(res.status, JSON.stringify(body)).toBe(200);
    return (body.data as { key_id: string; status: number; error_type: string | null }[]);
  };
  const refused = async (query: string) => {
    const res = await app.server.api(`/api/requests?${query}`);
    expect(res.status).toBe(400);
    return ((await res.json()) as { error: { message: string } }).error.message;
  };

  it("resolves the shown form, a unique prefix or suffix, and refuses ambiguous or unknown ones", async () => {
    await record(app.server, ...[KEY_A, KEY_A, KEY_B, KEY_C].map((keyId) => ({ call: makeCall({ keyId, model: "kf-model" }) })));
    const keysOf = async (key: string) => [...new Set((await ids(`key=${encodeURIComponent(key)}&model=kf-model`)).map((r) => r.key_id))];
    expect(await keysOf(KEY_A)).toEqual([KEY_A]);
    expect(await keysOf("fe303d..Lm4R")).toEqual([KEY_A]); // as the Requests table shows it
    expect(await keysOf("fe303")).toEqual([KEY_A]);
    expect(await keysOf("Qx7Z")).toEqual([KEY_B]);
    expect(await keysOf("0123..")).toEqual([KEY_C]);
    expect(await refused("key=fe3")).toMatch(/^key: "fe3" matches 2 keys \(fe303d1c9a2b\.\.Lm4R, fe3999aaaa00\.\.Qx7Z\); give more characters/);
    expect(await refused("key=Lm4R")).toMatch(/^key: "Lm4R" matches 2 keys/);
    expect(await refused("key=nope..Lm4R")).toMatch(/^key: no recorded key matches "nope\.\.Lm4R"/);

    // The page says the same instead of showing an empty table.
    const page = await app.user.get("/requests?key=fe3");
    expect(page.status).toBe(400);
    expect(await page.text()).toContain("matches 2 keys");
    const found = await (await app.user.get("/requests?key=fe303d..Lm4R")).text();
    expect(found).toContain("fe303d..Lm4R");
    expect(found).not.toContain("No calls match");
  });

  it("takes part of a model name in any case, and offers the known models as suggestions", async () => {
    await record(app.server, ...["acme/Llama-3.3-70B-Instruct", "acme/Llama-3.1-8B-Instruct", "acme/Qwen3-32B"].map((model) => ({ call: makeCall({ model, keyId: "mm-key" }) })));
    const models = async (model: string) => [...new Set((await ids(`model=${encodeURIComponent(model)}&key=mm-key`)).map((r) => (r as unknown as { model: string }).model))].sort();
    expect(await models("70b")).toEqual(["acme/Llama-3.3-70B-Instruct"]);
    expect(await models("acme/llama")).toEqual(["acme/Llama-3.1-8B-Instruct", "acme/Llama-3.3-70B-Instruct"]);
    expect(await models("acme/Qwen3-32B")).toEqual(["acme/Qwen3-32B"]);
    expect(await refused("model=no-such-model")).toBe('model: no recorded model contains "no-such-model"');
    const page = await (await app.user.get("/requests?model=70b")).text();
    expect(page).toContain('list="known-models"');
    expect(page).toContain('<option value="acme/Qwen3-32B">');
    expect(page).toContain("acme/Llama-3.3-70B-Instruct</span>");
    expect(page).not.toContain("acme/Qwen3-32B</span>");
  });

  it("links each Failures group to exactly its own calls", async () => {
    const now = Date.now();
    const m = "grp-model";
    await record(
      app.server,
      ...[
        { status: 200, errorType: "server_error" },
        { status: 200, errorType: "server_error" },
        { status: 429, errorType: "insufficient_credit" },
        { status: 500, errorType: "server_error" },
        { status: 503, errorType: null },
        { status: 499, errorType: "client_closed" },
        { status: 200, errorType: null },
      ].map((c, i) => ({ call: makeCall({ model: m, createdAt: now - 60_000 + i, ...c }) })),
    );
    const failures = await (await app.user.get("/requests/failed?range=1h")).text();
    const links = [...failures.matchAll(/href="\/requests\?([^"]+)" title="All calls of this group"/g)].map((l) => l[1]!.replaceAll("&amp;", "&"));
    const ours = links.filter((q) => new URLSearchParams(q).get("model") === m);
    expect(ours).toHaveLength(5);
    for (const query of ours) {
      const p = new URLSearchParams(query);
      const page = await (await app.user.get(`/requests?${query}`)).text();
      // Every row listed has the group's status; the count of rows is the group's count.
      const rows = [...page.matchAll(/<tr[^>]*>[\s\S]*?<\/tr>/g)].map((r) => r[0]).filter((r) => r.includes(`/requests/`) && r.includes(m));
      const api = await ids(`status=${p.get("status")}&error_type=${p.get("error_type")}&model=${m}&from=${new Date(now - 3_600_000).toISOString()}`);
      expect(api.length, query).toBe(p.get("status") === "200" ? 2 : 1);
      expect(new Set(api.map((r) => `${r.status} ${r.error_type}`)).size, query).toBe(1);
      expect(rows.length, query).toBe(api.length);
    }
  });
});
