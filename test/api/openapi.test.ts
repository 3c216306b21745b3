import type { OpenAPIHono } from "@hono/zod-openapi";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ZodType } from "zod";
import { apiRoutes } from "../../server/api/index.ts";
import { makeCall } from "../factories.ts";
import { startTestServer, type TestServer } from "../harness.ts";
import { QUIET_CRON } from "../reports/report-fixtures.ts";
import { startSmtpSink, type SmtpSink } from "../reports/smtp-sink.ts";
import { rollUpAll } from "../pg/rollup-ready.ts";

// GET /api/openapi.json against the routes that really exist: every documented operation is
// called on a real server with a few recorded calls, and each answer must match the zod schema
// the document was generated from, exactly (no missing field, no extra one). Every route the
// /api app serves must be documented. So the document cannot drift from the code.

const NOW = Date.parse("2026-11-25T10:00:00Z");
const clock = { now: () => NOW };

let server: TestServer;
let sink: SmtpSink;
/** The same router the server runs, built here for its route registry (it serves nothing). */
let api: OpenAPIHono;
let doc: { openapi: string; paths: Record<string, Record<string, { responses: Record<string, { content?: Record<string, unknown> }> }>>; components: Record<string, Record<string, unknown>>; security: unknown };

beforeAll(async () => {
  sink = await startSmtpSink();
  server = await startTestServer({ SMTP_URL: sink.url, PUBLIC_URL: "https://tollbooth.example.com", ...QUIET_CRON }, clock);
  const at = (iso: string) => Date.parse(iso);
  for (const call of [
    makeCall({ createdAt: at("2026-11-24T09:00:00Z"), team: "ml", project: "search", user: "ana", costNano: 4140, stream: true, ttftMs: 120 }),
    makeCall({ createdAt: at("2026-11-24T09:05:00Z"), team: "ml", costNano: null }),
    makeCall({ createdAt: at("2026-11-24T09:10:00Z"), status: 500, errorType: "upstream_error", errorMessage: "upstream timed out", promptTokens: null, completionTokens: null, totalTokens: null, usageSource: "none" }),
  ]) {
    server.recorder.enqueue({ call, bodies: { request: '{"model":"m"}', response: '{"id":"x"}', truncated: false } });
  }
  expect(await server.recorder.flushed(), "recorder flush").toBe(true);
  await rollUpAll(server.db, NOW); // one job run for /api/jobs
  api = apiRoutes({ config: server.config, db: server.db, clock, log: server.log, adminToken: server.adminToken });
  const res = await server.api("/api/openapi.json");
  expect(res.status).toBe(200);
  doc = await res.json();
});
afterAll(async () => {
  await server?.stop();
  await sink?.close();
});

type Step = { op: string; status: number; call: (state: State) => Promise<Response> };
type State = { requestId?: string; scheduleId?: number; keyId?: string; budgetId?: number; alertId?: number };

const json = (method: string, body: unknown) => ({ method, headers: { "content-type": "application/json" }, body: JSON.stringify(body) });

/** One successful call per documented operation, in an order where each can use what earlier ones made. */
const steps: Step[] = [
  { op: "GET /requests", status: 200, call: () => server.api("/api/requests?limit=10&team=ml") },
  { op: "GET /requests/{id}", status: 200, call: (s) => server.api(`/api/requests/${s.requestId}`) },
  { op: "GET /usage", status: 200, call: () => server.api("/api/usage?from=2026-11-01&to=2026-12-01&group_by=day,model&tz=Europe/London") },
  { op: "GET /usage.csv", status: 200, call: () => server.api("/api/usage.csv?from=2026-11-01&to=2026-12-01&group_by=team") },
  { op: "GET /usage/summary", status: 200, call: () => server.api("/api/usage/summary?period=week") },
  { op: "GET /prices", status: 200, call: () => server.api("/api/prices?limit=5") },
  {
    op: "POST /prices",
    status: 201,
    call: () => server.api("/api/prices", json("POST", { model: "meta-llama/Llama-3.3-70B-Instruct", input_usd_per_mtok: "0.2", output_usd_per_mtok: "0.4", effective_from: "2026-11-01" })),
  },
  { op: "POST /prices/reprice", status: 200, call: () => server.api("/api/prices/reprice?from=2026-11-24&to=2026-11-25", { method: "POST" }) },
  { op: "GET /jobs", status: 200, call: () => server.api("/api/jobs?job=rollup") },
  { op: "POST /keys/{key_id}/name", status: 200, call: () => server.api("/api/keys/fe303d1c9a2b..Lm4R/name", json("POST", { name: "search-prod" })) },
  { op: "GET /keys/names", status: 200, call: () => server.api("/api/keys/names") },
  {
    op: "POST /reports",
    status: 201,
    call: () =>
      server.api(
        "/api/reports",
        json("POST", { name: "Finance weekly", kind: "spend", period: "weekly", send_at: "09:00", timezone: "Europe/London", recipients: ["finance@example.com"], filter: { team: "ml" } }),
      ),
  },
  { op: "GET /reports", status: 200, call: () => server.api("/api/reports") },
  { op: "GET /reports/{id}", status: 200, call: (s) => server.api(`/api/reports/${s.scheduleId}`) },
  { op: "PATCH /reports/{id}", status: 200, call: (s) => server.api(`/api/reports/${s.scheduleId}`, json("PATCH", { send_at: "08:30" })) },
  { op: "POST /reports/{id}/send", status: 200, call: (s) => server.api(`/api/reports/${s.scheduleId}/send`, json("POST", { from: "2026-11-17", to: "2026-11-24" })) },
  { op: "GET /reports/{id}/preview", status: 200, call: (s) => server.api(`/api/reports/${s.scheduleId}/preview`) },
  { op: "GET /reports/{id}/deliveries", status: 200, call: (s) => server.api(`/api/reports/${s.scheduleId}/deliveries?limit=5`) },
  { op: "DELETE /reports/{id}", status: 200, call: (s) => server.api(`/api/reports/${s.scheduleId}`, { method: "DELETE" }) },
  { op: "POST /keys", status: 201, call: () => server.api("/api/keys", json("POST", { name: "search-prod", team: "ml", project: "search", expires_at: "2027-01-01T00:00:00Z", models: ["meta-llama/Llama-3.1-8B-Instruct"], rpm: 600, tpm: 200000 })) },
  { op: "GET /keys", status: 200, call: () => server.api("/api/keys") },
  { op: "POST /keys/{id}/rotate", status: 201, call: (s) => server.api(`/api/keys/${s.keyId}/rotate`, json("POST", { grace_seconds: 3600 })) },
  { op: "POST /keys/{id}/revoke", status: 200, call: (s) => server.api(`/api/keys/${s.keyId}/revoke`, { method: "POST" }) },
  {
    op: "POST /budgets",
    status: 201,
    call: () => server.api("/api/budgets", json("POST", { scope: "team", target: "ml", amount_usd: "25.00", period: "monthly", timezone: "Europe/London", soft_thresholds: [50, 80, 95], hard: true })),
  },
  { op: "GET /budgets", status: 200, call: () => server.api("/api/budgets") },
  { op: "GET /budgets/{id}", status: 200, call: (s) => server.api(`/api/budgets/${s.budgetId}`) },
  { op: "PATCH /budgets/{id}", status: 200, call: (s) => server.api(`/api/budgets/${s.budgetId}`, json("PATCH", { amount_usd: "30.00" })) },
  {
    op: "POST /alerts",
    status: 201,
    call: (s) => server.api("/api/alerts", json("POST", { kind: "budget_threshold", budget_id: s.budgetId, channels: [{ type: "webhook", url: "https://hooks.example.com/x", secret: "whsec-0123456789abcdef", format: "slack" }, { type: "email", to: ["finance@example.com"] }] })),
  },
  { op: "GET /alerts", status: 200, call: () => server.api("/api/alerts") },
  { op: "GET /alerts/{id}", status: 200, call: (s) => server.api(`/api/alerts/${s.alertId}`) },
  { op: "PATCH /alerts/{id}", status: 200, call: (s) => server.api(`/api/alerts/${s.alertId}`, json("PATCH", { enabled: false, channels: [{ type: "email", to: ["finance@example.com"] }] })) }, // the test send then reaches the SMTP sink, not the network
  { op: "GET /alerts/{id}/events", status: 200, call: (s) => server.api(`/api/alerts/${s.alertId}/events`) },
  { op: "POST /alerts/{id}/test", status: 200, call: (s) => server.api(`/api/alerts/${s.alertId}/test`, { method: "POST" }) },
  { op: "DELETE /alerts/{id}", status: 200, call: (s) => server.api(`/api/alerts/${s.alertId}`, { method: "DELETE" }) },
  { op: "DELETE /budgets/{id}", status: 200, call: (s) => server.api(`/api/budgets/${s.budgetId}`, { method: "DELETE" }) },
];

/** Errors documented on every route, one real call each. */
const errorSteps: Step[] = [
  { op: "GET /usage", status: 400, call: () => server.api("/api/usage?group_by=colour") },
  { op: "GET /requests", status: 401, call: () => fetch(`${server.url}/api/requests`) },
  { op: "GET /requests/{id}", status: 404, call: () => server.api("/api/requests/no-such-request") },
  { op: "POST /reports", status: 400, call: () => server.api("/api/reports", json("POST", { name: "x" })) },
  { op: "POST /keys/{id}/revoke", status: 404, call: () => server.api("/api/keys/key_0000000000000000/revoke", { method: "POST" }) },
  { op: "GET /budgets/{id}", status: 404, call: () => server.api("/api/budgets/999") },
];

function documentedOps(): string[] {
  return Object.entries(doc.paths).flatMap(([path, ops]) => Object.keys(ops).map((method) => `${method.toUpperCase()} ${path}`));
}

/** The zod schema a response was documented with (the document is generated from these). */
function responseSchema(op: string, status: number, mediaType: string): ZodType {
  const [method, path] = op.split(" ") as [string, string];
  const route = api.openAPIRegistry.definitions.find((d) => d.type === "route" && d.route.method === method.toLowerCase() && d.route.path === path);
  if (route?.type !== "route") throw new Error(`${op}: not in the registry`);
  const response = route.route.responses[status];
  const media = response && "content" in response ? response.content?.[mediaType] : undefined;
  const schema = media && "schema" in media ? media.schema : undefined;
  if (!schema || !("safeParse" in schema)) throw new Error(`${op}: no ${mediaType} schema documented for ${status}`);
  return schema as ZodType;
}

/** The body must parse, and parsing must not drop anything: zod strips unknown keys, toEqual then notices. */
async function expectDocumented(op: string, status: number, res: Response): Promise<unknown> {
  const text = await res.text();
  expect(res.status, `${op}: ${text.slice(0, 300)}`).toBe(status);
  const documented = doc.paths[op.split(" ")[1]!]?.[op.split(" ")[0]!.toLowerCase()]?.responses[String(status)];
  const mediaType = (res.headers.get("content-type") ?? "").split(";")[0]!.trim();
  expect(Object.keys(documented?.content ?? {}), `${op} ${status}: documented media types`).toContain(mediaType);
  const body = mediaType === "application/json" ? JSON.parse(text) : text;
  const parsed = responseSchema(op, status, mediaType).safeParse(body);
  expect(parsed.error?.issues ?? [], `${op} ${status}: ${text.slice(0, 300)}`).toEqual([]);
  expect(parsed.data, `${op} ${status}: a field the document does not describe`).toEqual(body);
  return body;
}

describe("GET /api/openapi.json", () => {
  it("is OpenAPI 3.1 with the admin token as a bearer scheme, and needs that token", async () => {
    expect(doc.openapi).toBe("3.1.0");
    expect(doc.components.securitySchemes).toEqual({ adminToken: expect.objectContaining({ type: "http", scheme: "bearer" }) });
    expect(doc.security).toEqual([{ adminToken: [] }]);
    expect((await fetch(`${server.url}/api/openapi.json`)).status).toBe(401);
  });

  it("documents every route the /api app serves", () => {
    const served = api.routes
      .filter((r) => r.method !== "ALL" && r.path !== "/openapi.json")
      .map((r) => `${r.method} ${r.path.replace(/:([^/]+)/g, "{$1}")}`)
      .sort();
    expect(documentedOps().sort()).toEqual([...new Set(served)]);
  });

  it("answers every documented operation with a body that matches the document exactly", async () => {
    expect(steps.map((s) => s.op).sort(), "every documented operation has a step here").toEqual(documentedOps().sort());
    const state: State = {};
    for (const step of steps) {
      const body = (await expectDocumented(step.op, step.status, await step.call(state))) as Record<string, unknown>;
      if (step.op === "GET /requests") {
        const rows = body.data as { request_id: string }[];
        expect(rows.length, "recorded calls listed").toBeGreaterThan(0);
        state.requestId = rows[0]!.request_id;
      }
      if (step.op === "POST /reports") state.scheduleId = body.id as number;
      if (step.op === "POST /keys") state.keyId = body.id as string;
      if (step.op === "POST /budgets") state.budgetId = body.id as number;
      if (step.op === "POST /alerts") state.alertId = body.id as number;
    }
  });

  it("answers documented errors in the documented shape", async () => {
    for (const step of errorSteps) await expectDocumented(step.op, step.status, await step.call({}));
  });
});

describe("JSON bodies", () => {
  it("are read as JSON whatever Content-Type says (the README's curl -d sends form-urlencoded)", async () => {
    const body = JSON.stringify({ model: "acme/curl-model", input_usd_per_mtok: "1", output_usd_per_mtok: "2" });
    const form = await server.api("/api/prices", { method: "POST", headers: { "content-type": "application/x-www-form-urlencoded" }, body });
    expect(form.status, await form.text()).toBe(201);
    const bad = await server.api("/api/prices", { method: "POST", headers: { "content-type": "text/plain" }, body: "{nope" });
    expect((await bad.json()).error.message).toBe("body: must be valid JSON");
  });
});
