import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestServer, type TestServer } from "../harness.ts";
import { fixedClock, getJson, recordCalls, spendCall } from "../usage/spend-fixtures.ts";

// GET/POST /api/prices: the seeded catalog, admin prices, and validation that names the field.

describe("prices API", () => {
  const clock = fixedClock("2025-03-20T10:00:00Z");
  let server: TestServer;
  const post = (body: unknown) =>
    server.api("/api/prices", { method: "POST", headers: { "content-type": "application/json" }, body: typeof body === "string" ? body : JSON.stringify(body) });

  beforeAll(async () => {
    server = await startTestServer({}, clock);
  });
  afterAll(async () => {
    await server?.stop();
  });

  it("lists the seeded Nscale prices (migration) as decimal strings", async () => {
    const body = await getJson(server, "/api/prices?model=deepseek-ai/DeepSeek-R1-Distill-Llama-70B");
    expect(body.data).toEqual([
      expect.objectContaining({
        model: "deepseek-ai/DeepSeek-R1-Distill-Llama-70B",
        input_usd_per_mtok: "0.375",
        output_usd_per_mtok: "0.375",
        currency: "USD",
        effective_from: "1970-01-01T00:00:00.000Z",
        source: "seed",
        in_effect: true,
      }),
    ]);
    const all = await getJson(server, "/api/prices?limit=1000");
    expect(all.data).toHaveLength(14);
  });

  it("pages with next_cursor", async () => {
    const first = await getJson(server, "/api/prices?limit=5");
    const second = await getJson(server, `/api/prices?limit=5&cursor=${first.next_cursor}`);
    expect(first.data).toHaveLength(5);
    expect(second.data[0].id).toBeLessThan(first.data[4].id);
  });

  it("adds an admin price (201) that prices new calls and wins a tie with the seed", async () => {
    const res = await post({ model: "meta-llama/Llama-3.1-8B-Instruct", input_usd_per_mtok: "0.04", output_usd_per_mtok: "0.05", effective_from: "1970-01-01T00:00:00Z" });
    const row = await res.json();
    expect(res.status, JSON.stringify(row)).toBe(201);
    expect(row).toMatchObject({ source: "admin", input_usd_per_mtok: "0.04", output_usd_per_mtok: "0.05", in_effect: true, created_at: "2025-03-20T10:00:00.000Z" });
    const listed = await getJson(server, "/api/prices?model=meta-llama/Llama-3.1-8B-Instruct");
    expect(listed.data.map((p: { source: string; in_effect: boolean }) => [p.source, p.in_effect])).toEqual([["admin", true], ["seed", false]]);

    await recordCalls(server, [spendCall({ model: "meta-llama/Llama-3.1-8B-Instruct", promptTokens: 1_000_000, completionTokens: 1_000_000 })]);
    const usage = await getJson(server, "/api/usage?from=2025-03-01&to=2025-04-01");
    expect(usage.totals.cost_usd).toBe("0.090000000");
  });

  it("defaults effective_from to now and accepts offsets", async () => {
    const res = await post({ model: "acme/new-model", input_usd_per_mtok: "1", output_usd_per_mtok: "2.5" });
    expect(await res.json()).toMatchObject({ effective_from: "2025-03-20T10:00:00.000Z", input_usd_per_mtok: "1", output_usd_per_mtok: "2.5" });
    const res2 = await post({ model: "acme/new-model", input_usd_per_mtok: "1", output_usd_per_mtok: "2", effective_from: "2025-04-01T00:00:00+05:30" });
    expect((await res2.json()).effective_from).toBe("2025-03-31T18:30:00.000Z");
  });

  it.each([
    [{ model: "m", input_usd_per_mtok: 0.03, output_usd_per_mtok: "0.03" }, "input_usd_per_mtok: must be a decimal string"],
    [{ model: "m", input_usd_per_mtok: "0.03", output_usd_per_mtok: "-0.03" }, "output_usd_per_mtok: must not be negative"],
    [{ model: "m", input_usd_per_mtok: "0.0000001", output_usd_per_mtok: "0.03" }, "input_usd_per_mtok: has more than 6 decimals"],
    [{ model: "m", input_usd_per_mtok: "3e-2", output_usd_per_mtok: "0.03" }, "input_usd_per_mtok: must be a plain decimal"],
    [{ model: "m", output_usd_per_mtok: "0.03" }, "input_usd_per_mtok: is required"],
    [{ model: "m", input_usd_per_mtok: "0.03", output_usd_per_mtok: "0.03", currency: "EUR" }, "currency: unknown field"],
    [{ input_usd_per_mtok: "0.03", output_usd_per_mtok: "0.03" }, "model: must be a model id"],
    [{ model: "", input_usd_per_mtok: "0.03", output_usd_per_mtok: "0.03" }, "model: must be a model id"],
    [{ model: "m", input_usd_per_mtok: "0.03", output_usd_per_mtok: "0.03", effective_from: "2025-03-01T00:00:00" }, "effective_from: "],
    [{ model: "m", input_usd_per_mtok: "0.03", output_usd_per_mtok: "0.03", effective_from: 1740787200000 }, "effective_from: must be an ISO 8601 string"],
    [["m"], "body: must be a JSON object"],
    ["{not json", "body: must be valid JSON"],
  ])("rejects %j with a 400 naming the field", async (body, message) => {
    const res = await post(body);
    const err = await res.json();
    expect(res.status, JSON.stringify(err)).toBe(400);
    expect(err.error.type).toBe("invalid_request_error");
    expect(err.error.message).toContain(message);
  });

  it("rejects bad list parameters", async () => {
    for (const q of ["limit=0", "limit=abc", "cursor=x", "modle=x"]) {
      const res = await server.api(`/api/prices?${q}`);
      expect(res.status, q).toBe(400);
    }
  });

  it("requires the admin token", async () => {
    const res = await fetch(`${server.url}/api/prices`);
    expect(res.status).toBe(401);
  });
});
