import { Agent, request } from "undici";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CALLER_KEY, chatBody, postChat, startProxyRig, type ProxyRig } from "../proxy/proxy-harness.ts";
import { ON_POSTGRES } from "../harness.ts";
import { readScrape } from "./scrape.ts";

const METRICS_TOKEN = "metrics-scraper-token-0123456789";

async function scrape(rig: ProxyRig, token: string | null = METRICS_TOKEN): Promise<Response> {
  return fetch(`${rig.server.url}/metrics`, { headers: token === null ? {} : { authorization: `Bearer ${token}` } });
}

describe("GET /metrics", () => {
  let rig: ProxyRig;
  beforeAll(async () => {
    rig = await startProxyRig({ METRICS_TOKEN });
  });
  afterAll(() => rig.stop());

  it("answers 401 in OpenAI's error shape without a token or with a wrong one, 200 with the metrics token or the admin token", async () => {
    for (const token of [null, "not-the-token-at-all-000000", CALLER_KEY]) {
      const res = await scrape(rig, token);
      expect(res.status, `token ${token}`).toBe(401);
      const body = (await res.json()) as { error: { type: string; code: string } };
      expect(body.error).toMatchObject({ type: "authentication_error", code: "invalid_metrics_token" });
    }
    expect((await scrape(rig, METRICS_TOKEN)).status).toBe(200);
    const admin = await scrape(rig, rig.server.adminToken);
    expect(admin.status).toBe(200);
    expect(admin.headers.get("content-type")).toMatch(/^text\/plain; version=0\.0\.4/);
  });

  it("counts calls, tokens, cost, durations and the recorder's figures, read back with a Prometheus parser", async () => {
    const team = { "x-tollbooth-team": "ml" };
    // A soft budget on the team: the scrape reports its spend this period and its amount.
    const budget = await rig.server.api("/api/budgets", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ scope: "team", target: "ml", amount_usd: "1000.00", period: "monthly", timezone: "UTC", hard: false }),
    });
    expect(budget.status, await budget.clone().text()).toBe(201);
    const budgetId = String(((await budget.json()) as { id: number }).id);
    const ok = await postChat(rig, chatBody(), team);
    expect(ok.status).toBe(200);
    const stream = await postChat(rig, chatBody({ stream: true }), team);
    await stream.text();
    const failed = await postChat(rig, chatBody(), { ...team, "x-fake-scenario": "status-429" });
    expect(failed.status).toBe(429);
    const rows = await rig.waitForRows(3);

    const m = readScrape(await (await scrape(rig)).text());
    const model = "meta-llama/Llama-3.1-8B-Instruct";
    expect(m.types.get("tollbooth_requests_total")).toBe("COUNTER");
    expect(m.sum("tollbooth_requests_total", { model, team: "ml", status: "2xx", error_type: "" })).toBe(2);
    expect(m.sum("tollbooth_requests_total", { model, team: "ml", status: "4xx", error_type: "insufficient_credit" })).toBe(1);
    const input = rows.reduce((a, r) => a + (r.promptTokens ?? 0), 0);
    const output = rows.reduce((a, r) => a + (r.completionTokens ?? 0), 0);
    expect(input).toBeGreaterThan(0);
    expect(m.sum("tollbooth_tokens_total", { model, team: "ml", type: "input" })).toBe(input);
    expect(m.sum("tollbooth_tokens_total", { model, team: "ml", type: "output" })).toBe(output);
    // Cost: the rows' integer nano-USD, in USD.
    const nano = rows.reduce((a, r) => a + (r.costNano ?? 0), 0);
    expect(nano).toBeGreaterThan(0);
    expect(m.types.get("tollbooth_cost_usd_total")).toBe("COUNTER");
    expect(m.sum("tollbooth_cost_usd_total", { model, team: "ml" })).toBeCloseTo(nano / 1e9, 12);
    expect(m.types.get("tollbooth_request_duration_seconds")).toBe("HISTOGRAM");
    expect(m.sum("tollbooth_request_duration_seconds_count", { model, team: "ml" })).toBe(3);
    expect(m.sum("tollbooth_time_to_first_token_seconds_count", { model, team: "ml" })).toBe(1);
    expect(m.sum("tollbooth_recorder_flush_duration_seconds_count")).toBeGreaterThan(0);
    expect(m.sum("tollbooth_recorder_queue_rows")).toBe(0);
    expect(m.sum("tollbooth_recorder_rows_lost")).toBe(0);
    expect(m.types.get("tollbooth_rollup_lag_seconds")).toBe("GAUGE");
    // Business figures from the database (rollups plus the calls not rolled up yet).
    expect(m.sum("tollbooth_db_spend_usd", { period: "day", team: "ml", model })).toBeCloseTo(nano / 1e9, 12);
    expect(m.sum("tollbooth_db_spend_usd", { period: "month", team: "ml", model })).toBeCloseTo(nano / 1e9, 12);
    // Budget used = spent / amount, labelled by budget id and scope kind only.
    expect(m.sum("tollbooth_db_budget_spent_usd", { budget: budgetId, scope: "team" })).toBeCloseTo(nano / 1e9, 12);
    expect(m.sum("tollbooth_db_budget_amount_usd", { budget: budgetId, scope: "team" })).toBe(1000);
  });
});

// Not run on PostgreSQL: the label cap is the process's own; the engine plays no part in it, and
// 10,000 calls cost half a minute there.
describe.skipIf(ON_POSTGRES)("GET /metrics under 10,000 distinct keys, users, projects and teams", () => {
  let rig: ProxyRig;
  beforeAll(async () => {
    rig = await startProxyRig({ METRICS_TOKEN, METRICS_MAX_LABEL_VALUES: "20", LOG_BODIES: "none" });
  });
  afterAll(() => rig.stop());

  it("keeps the number of series bounded: keys, users and projects are never labels, teams past the cap are (other)", { timeout: 120_000 }, async () => {
    const N = 10_000;
    const agent = new Agent({ connections: 32 });
    const body = JSON.stringify(chatBody());
    let next = 0;
    const worker = async () => {
      for (let i = next++; i < N; i = next++) {
        const res = await request(`${rig.baseURL}/chat/completions`, {
          method: "POST",
          dispatcher: agent,
          headers: {
            authorization: `Bearer sk-distinct-key-${i}-0123456789abcdef`,
            "content-type": "application/json",
            "x-tollbooth-team": `team-${i}`,
            "x-tollbooth-project": `project-${i}`,
            "x-tollbooth-user": `user-${i}`,
          },
          body,
        });
        await res.body.dump();
        expect(res.statusCode).toBe(200);
      }
    };
    await Promise.all(Array.from({ length: 32 }, worker));
    await agent.close();
    await rig.waitForRows(N, 60_000);

    const text = await (await scrape(rig)).text();
    const m = readScrape(text);
    expect(m.sum("tollbooth_requests_total")).toBe(N);
    const teams = m.values("tollbooth_requests_total", "team");
    expect(teams.size).toBe(21);
    expect(teams.has("(other)")).toBe(true);
    expect(m.sum("tollbooth_requests_total", { team: "(other)" })).toBe(N - 20);
    for (const s of m.samples) {
      for (const label of Object.keys(s.labels)) expect(["model", "team", "status", "error_type", "type", "le", "period", "job", "result", "budget", "scope"]).toContain(label);
    }
    // Every family together: a few hundred series, whatever the number of keys.
    expect(m.samples.length).toBeLessThan(1_000);
    expect(text).not.toContain("sk-distinct-key");
  });
});
