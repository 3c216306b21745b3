import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { CallRecord } from "../../server/recorder/recorder.ts";
import { requestPageQuery, type RequestDetail, type RequestPage } from "../../server/requests/query.ts";
import { makeCall } from "../factories.ts";
import { startTestServer, type TestServer, ON_POSTGRES } from "../harness.ts";
import { sqliteClient } from "../../server/db/sqlite.ts";

// One server for the file; every test tags its rows with a fresh team or project and filters by
// it, so tests stay independent while sharing the database.
let server: TestServer;
beforeAll(async () => {
  server = await startTestServer();
});
afterAll(async () => {
  await server?.stop();
});

const tag = (prefix: string) => `${prefix}-${randomUUID().slice(0, 8)}`;

async function record(...records: CallRecord[]): Promise<void> {
  for (const r of records) server.recorder.enqueue(r);
  expect(await server.recorder.flushed(), "recorder flush").toBe(true);
}

async function getJson<T>(path: string): Promise<T> {
  const res = await server.api(path);
  const body = await res.text();
  expect(res.status, `${path}: ${body}`).toBe(200);
  return JSON.parse(body) as T;
}

async function expectBadRequest(path: string, param: string): Promise<void> {
  const res = await server.api(path);
  const body = await res.text();
  expect(res.status, `${path}: ${body}`).toBe(400);
  const { error } = JSON.parse(body) as { error: { message: string; type: string } };
  expect(error.type, body).toBe("invalid_request_error");
  expect(error.message, body).toContain(param);
}

describe("GET /api/requests auth", () => {
  it("answers 401 without a token and with a wrong one", async () => {
    const none = await fetch(`${server.url}/api/requests`);
    expect(none.status, await none.text()).toBe(401);
    const wrong = await fetch(`${server.url}/api/requests`, { headers: { authorization: "Bearer not-the-admin-token" } });
    const body = await wrong.text();
    expect(wrong.status, body).toBe(401);
    expect(JSON.parse(body).error.type).toBe("authentication_error");
    const detail = await fetch(`${server.url}/api/requests/1`);
    expect(detail.status, await detail.text()).toBe(401);
  });

  it("a malformed Authorization header gets the same 401 in OpenAI's shape, with a challenge", async () => {
    for (const authorization of ["Basic dXNlcjpwYXNz", "Bearer", "Bearer two words"]) {
      const res = await fetch(`${server.url}/api/requests`, { headers: { authorization } });
      const body = await res.text();
      expect(res.status, `${authorization}: ${body}`).toBe(401);
      expect(JSON.parse(body).error).toMatchObject({ type: "authentication_error", code: "invalid_admin_token" });
      expect(res.headers.get("www-authenticate")).toMatch(/^Bearer /);
    }
  });
});

describe("/api request ids", () => {
  it("every /api error body carries the request id that x-request-id announces", async () => {
    const answers = [
      await fetch(`${server.url}/api/requests`), // 401 from the token check
      await server.api("/api/requests?limit=nope"), // 400 from validation
      await server.api("/api/requests/999999999"), // 404 from the route
      await server.api("/api/no-such-route"), // 404 from the catch-all
    ];
    for (const res of answers) {
      const body = await res.text();
      const id = res.headers.get("x-request-id");
      expect(id, `${res.status} ${body}`).toMatch(/^[0-9a-f-]{36}$/);
      const { error } = JSON.parse(body) as { error: Record<string, unknown> };
      expect(error, body).toMatchObject({ request_id: id });
      expect(Object.keys(error).sort()).toEqual(["code", "message", "request_id", "type"]);
    }
  });

  it("keeps a well-formed id the client sends, so a trace can span both sides", async () => {
    const res = await fetch(`${server.url}/api/requests`, { headers: { "x-request-id": "client-trace-42" } });
    expect(res.headers.get("x-request-id")).toBe("client-trace-42");
    expect((await res.json()).error.request_id).toBe("client-trace-42");
  });
});

describe("GET /api/requests listing", () => {
  it("lists newest first, ties broken by id desc", async () => {
    const project = tag("order");
    const t = Date.UTC(2030, 5, 1);
    const [older, tieA, tieB, newest] = [t - 1000, t, t, t + 1000].map((createdAt) => makeCall({ createdAt, project }));
    await record({ call: tieA! }, { call: newest! }, { call: older! }, { call: tieB! });

    const page = await getJson<RequestPage>(`/api/requests?project=${project}`);
    expect(page.data.map((r) => r.request_id)).toEqual([newest!.requestId, tieB!.requestId, tieA!.requestId, older!.requestId]);

    // Unfiltered, the whole table is in (created_at desc, id desc) order too.
    const all = await getJson<RequestPage>("/api/requests?limit=500");
    const keys = all.data.map((r) => [Date.parse(r.created_at), r.id] as const);
    const sorted = [...keys].sort((a, b) => b[0] - a[0] || b[1] - a[1]);
    expect(keys).toEqual(sorted);
  });

  it("shapes a row in snake_case with ISO time and USD decimal string", async () => {
    const project = tag("shape");
    const call = makeCall({
      project,
      createdAt: Date.UTC(2030, 0, 2, 3, 4, 5, 678),
      stream: true,
      ttftMs: 120,
      team: "platform",
      user: "ada@example.com",
      upstreamRequestId: "chatcmpl-123",
      costNano: 1500,
    });
    await record({ call }, { call: makeCall({ project, createdAt: call.createdAt - 1, costNano: null }) });

    const { data } = await getJson<RequestPage>(`/api/requests?project=${project}`);
    expect(data[0]).toEqual({
      id: expect.any(Number),
      request_id: call.requestId,
      created_at: "2030-01-02T03:04:05.678Z",
      model: call.model,
      endpoint: "/v1/chat/completions",
      stream: true,
      status: 200,
      error_type: null,
      error_message: null,
      prompt_tokens: 12,
      completion_tokens: 30,
      total_tokens: 42,
      usage_source: "upstream",
      duration_ms: 850,
      ttft_ms: 120,
      key_id: call.keyId,
      team: "platform",
      project,
      user: "ada@example.com",
      upstream_request_id: "chatcmpl-123",
      cost_usd: "0.000001500",
    });
    // Unpriced stays null, never "0" (docs/architecture.md, "Money is exact").
    expect(data[1]?.cost_usd).toBeNull();
  });

  it.each([
    ["distinct created_at", (i: number) => i * 1000],
    ["groups sharing created_at", (i: number) => Math.floor(i / 7) * 1000],
    ["all sharing one created_at", () => 0],
  ])("pages through 120 rows with limit=50 exactly once (%s)", async (_name, offset) => {
    const project = tag("page");
    const base = Date.UTC(2030, 2, 1);
    const calls = Array.from({ length: 120 }, (_, i) => makeCall({ project, createdAt: base + offset(i) }));
    await record(...calls.map((call) => ({ call })));

    const seen: string[] = [];
    const sizes: number[] = [];
    let cursor: string | null = null;
    do {
      const page: RequestPage = await getJson(`/api/requests?project=${project}&limit=50${cursor ? `&cursor=${cursor}` : ""}`);
      sizes.push(page.data.length);
      seen.push(...page.data.map((r) => r.request_id));
      cursor = page.next_cursor;
    } while (cursor !== null && sizes.length < 10);

    expect(sizes).toEqual([50, 50, 20]);
    expect(new Set(seen).size, "no row twice").toBe(120);
    expect([...seen].sort()).toEqual(calls.map((c) => c.requestId).sort());
  });

  it("gives next_cursor null when the last page is exactly full", async () => {
    const project = tag("exact");
    await record(...Array.from({ length: 3 }, (_, i) => ({ call: makeCall({ project, createdAt: Date.UTC(2030, 3, 1) + i }) })));
    const page = await getJson<RequestPage>(`/api/requests?project=${project}&limit=3`);
    expect(page.data).toHaveLength(3);
    expect(page.next_cursor).toBeNull();
  });
});

describe("GET /api/requests filters", () => {
  const team = tag("filters");
  const day = Date.UTC(2031, 0, 10); // 2031-01-10T00:00:00Z
  const hour = 3_600_000;
  const rows = {
    ok: makeCall({ team, createdAt: day, model: "m1", project: "p1", user: "u1", keyId: "k1" }),
    limited: makeCall({
      team,
      createdAt: day + hour,
      model: "m2",
      project: "p2",
      user: "u2",
      keyId: "k2",
      status: 429,
      errorType: "rate_limit_error",
      errorMessage: "Rate limit exceeded for this model",
    }),
    // An error event inside a 200 SSE stream: a failure although the status says OK.
    inStream: makeCall({ team, createdAt: day + 2 * hour, stream: true, errorType: "server_error", errorMessage: "error event mid-stream" }),
    unreachable: makeCall({ team, createdAt: day + 24 * hour, status: 502, errorType: "upstream_unreachable", errorMessage: "connect: 100% _failed_" }),
    lookalike: makeCall({ team, createdAt: day + 25 * hour, status: 500, errorType: "server_error", errorMessage: "1000 failed" }),
    gone: makeCall({ team, createdAt: day + 48 * hour, model: "m1", status: 499, errorType: "client_closed", errorMessage: null }),
  };
  const nameOf = new Map(Object.entries(rows).map(([name, call]) => [call.requestId, name]));

  beforeAll(async () => {
    await record(...Object.values(rows).map((call) => ({ call })));
  });

  async function names(query: string): Promise<string[]> {
    const page = await getJson<RequestPage>(`/api/requests?team=${team}&${query}`);
    return page.data.map((r) => nameOf.get(r.request_id) ?? r.request_id);
  }

  it.each([
    ["status=ok", ["ok"]],
    ["status=error", ["gone", "lookalike", "unreachable", "inStream", "limited"]],
    ["status=429", ["limited"]],
    ["status=499", ["gone"]],
    ["model=m1", ["gone", "ok"]],
    ["project=p2", ["limited"]],
    ["user=u1", ["ok"]],
    ["key=k2", ["limited"]],
    ["from=2031-01-10T01:00:00Z&to=2031-01-11", ["inStream", "limited"]],
    ["from=2031-01-10T02:00:00%2B01:00&to=2031-01-11T00:00:00.000Z", ["inStream", "limited"]],
    ["from=2031-01-11", ["gone", "lookalike", "unreachable"]],
    ["to=2031-01-10T01:00:00Z", ["ok"]],
    ["q=RATE%20limit", ["limited"]],
    ["q=100%25", ["unreachable"]],
    ["q=_failed", ["unreachable"]],
    ["q=failed", ["lookalike", "unreachable"]],
    ["status=error&model=m1", ["gone"]],
    ["model=", ["gone", "lookalike", "unreachable", "inStream", "limited", "ok"]],
  ])("%s", async (query, expected) => {
    expect(await names(query)).toEqual(expected);
  });

  it("status=error includes a 200 whose stream carried an error event", async () => {
    const found = await names("status=error");
    expect(found).toContain("inStream");
    expect(await names("status=ok")).not.toContain("inStream");
  });

  // Not run on PostgreSQL: asserts SQLite's query plan (EXPLAIN QUERY PLAN).
  it.skipIf(ON_POSTGRES).each(["error", 429] as const)("status=%s is served by the partial index calls_failed_created_idx", (status) => {
    const { sql, params } = requestPageQuery(server.db, { status, cursor: { createdAt: day, id: 1 } }).toSQL();
    const plan = sqliteClient(server.db).prepare(`EXPLAIN QUERY PLAN ${sql}`).all(...params) as { detail: string }[];
    expect(plan.map((p) => p.detail).join("\n")).toContain("calls_failed_created_idx");
  });

  it("treats SQL-looking values as plain data", async () => {
    // A model that matches no recorded model is refused by name, as plain text.
    const model = await server.api(`/api/requests?model=${encodeURIComponent("' OR 1=1 --")}`);
    expect(model.status).toBe(400);
    expect((await model.json()).error.message).toBe(`model: no recorded model contains "' OR 1=1 --"`);
    for (const query of [
      `user=${encodeURIComponent(`x"; DROP TABLE calls; --`)}`,
      `q=${encodeURIComponent("%' OR '1'='1")}`,
    ]) {
      expect(await names(query), query).toEqual([]);
    }
    expect(await names("status=ok")).toEqual(["ok"]);
  });
});

describe("GET /api/requests invalid filters", () => {
  const junkCursor = Buffer.from("abc").toString("base64url");
  it.each([
    ["status=oops", "status"],
    ["status=600", "status"],
    ["status=42", "status"],
    ["from=yesterday", "from"],
    ["from=2024-02-30", "from"],
    ["from=2024-01-01T00:00:00", "from"], // no offset: not an instant
    ["to=2024-13-01", "to"],
    ["from=2024-01-02&to=2024-01-01", "to"],
    ["limit=0", "limit"],
    ["limit=501", "limit"],
    ["limit=ten", "limit"],
    ["limit=-1", "limit"],
    ["cursor=!!!", "cursor"],
    [`cursor=${junkCursor}`, "cursor"],
    ["colour=red", "colour"],
    ["__proto__=x", "__proto__"],
    ["model=a&model=b", "model"],
  ])("%s → 400 naming %s", async (query, param) => {
    await expectBadRequest(`/api/requests?${query}`, param);
  });
});

describe("GET /api/requests/:id", () => {
  it("returns the row with its bodies, by id and by request_id", async () => {
    const project = tag("detail");
    const call = makeCall({ project, status: 400, errorType: "invalid_request_error", errorMessage: "bad model" });
    await record({ call, bodies: { request: '{"model":"nope"}', response: '{"error":{"message":"bad model"}}', truncated: true } });
    const { data } = await getJson<RequestPage>(`/api/requests?project=${project}`);
    const id = data[0]!.id;

    for (const ref of [String(id), call.requestId]) {
      const detail = await getJson<RequestDetail>(`/api/requests/${ref}`);
      expect(detail).toEqual({
        ...data[0],
        request_body: '{"model":"nope"}',
        response_body: '{"error":{"message":"bad model"}}',
        bodies_truncated: true,
      });
    }
  });

  it("gives null bodies and bodies_truncated false when none were stored", async () => {
    const call = makeCall();
    await record({ call });
    const detail = await getJson<RequestDetail>(`/api/requests/${call.requestId}`);
    expect(detail).toMatchObject({ request_id: call.requestId, request_body: null, response_body: null, bodies_truncated: false });
  });

  it.each(["999999999", "no-such-request"])("answers 404 for %s", async (ref) => {
    const res = await server.api(`/api/requests/${ref}`);
    const body = await res.text();
    expect(res.status, body).toBe(404);
    expect(JSON.parse(body).error.code, body).toBe("not_found");
  });

  it.each(["0", encodeURIComponent("bad id!"), "99999999999999999999"])("answers 400 for malformed id %s", async (ref) => {
    await expectBadRequest(`/api/requests/${ref}`, "id");
  });
});
