import { sql } from "drizzle-orm";
import OpenAI from "openai";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { expectedUsage, fakeContent } from "../fake-upstream.ts";
import type { TestEngine } from "../harness.ts";
import { CALLER_KEY, chatBody, postChat, startProxyRig, type ProxyRig } from "./proxy-harness.ts";

// The server serving on PostgreSQL: the same calls made through a server on SQLite and one on
// PostgreSQL are recorded with the same figures (tokens, cost, status, error type, bodies), and
// /healthz and /metrics answer on PostgreSQL as they do on SQLite.

const ENGINES: TestEngine[] = ["sqlite", "postgres"];
const rigs = new Map<TestEngine, ProxyRig>();

beforeAll(async () => {
  for (const engine of ENGINES) rigs.set(engine, await startProxyRig({ LOG_BODIES: "all" }, { engine }));
}, 60_000);
afterAll(async () => {
  for (const rig of rigs.values()) await rig.stop();
});

/** The calls each server gets, in order: JSON, streaming, failing upstream, an error inside a stream, a stream with no usage. */
async function makeCalls(rig: ProxyRig): Promise<string[]> {
  const ids: string[] = [];
  const keep = (res: Response) => {
    ids.push(res.headers.get("x-tollbooth-request-id")!);
    return res.text();
  };
  const openai = new OpenAI({ baseURL: rig.baseURL, apiKey: CALLER_KEY, maxRetries: 0 });
  const { response } = await openai.chat.completions
    .create(chatBody() as OpenAI.ChatCompletionCreateParamsNonStreaming, { headers: { "X-Tollbooth-Team": "ml", "X-Tollbooth-Project": "search" } })
    .withResponse();
  ids.push(response.headers.get("x-tollbooth-request-id")!);
  await keep(await postChat(rig, chatBody({ stream: true, stream_options: { include_usage: true } }), { "x-tollbooth-user": "ana" }));
  await keep(await postChat(rig, chatBody(), { "x-fake-scenario": "status-500" }));
  await keep(await postChat(rig, chatBody({ stream: true }), { "x-fake-scenario": "stream-error" }));
  await keep(await postChat(rig, chatBody({ stream: true, model: "meta-llama/Llama-3.3-70B-Instruct" }), { "x-fake-scenario": "stream-no-usage" }));
  return ids;
}

interface Recorded {
  request_id: string;
  model: string | null;
  endpoint: string;
  stream: boolean | number;
  status: number;
  error_type: string | null;
  error_message: string | null;
  prompt_tokens: number | null;
  completion_tokens: number | null;
  total_tokens: number | null;
  usage_source: string;
  cost_nano: number | null;
  key_id: string | null;
  team: string | null;
  project: string | null;
  user: string | null;
  request_body: string | null;
  response_body: string | null;
  truncated: boolean | number | null;
}

/** The rows of `ids` with their bodies, in the order of `ids`, once all are committed. */
async function recorded(rig: ProxyRig, ids: string[]): Promise<Recorded[]> {
  const read = () =>
    rig.server.db.all<Recorded>(sql`
      SELECT c.request_id, c.model, c.endpoint, c.stream, c.status, c.error_type, c.error_message, c.prompt_tokens,
             c.completion_tokens, c.total_tokens, c.usage_source, c.cost_nano, c.key_id, c.team, c.project, c."user",
             b.request_body, b.response_body, b.truncated
      FROM calls c LEFT JOIN call_bodies b ON b.call_id = c.id
      WHERE c.request_id IN (${sql.join(ids.map((id) => sql`${id}`), sql`, `)})`);
  let rows: Recorded[] = [];
  const deadline = Date.now() + 10_000;
  while ((rows = await read()).length < ids.length) {
    if (Date.now() > deadline) throw new Error(`only ${rows.length} of ${ids.length} calls recorded`);
    await new Promise((r) => setTimeout(r, 20));
  }
  return ids.map((id) => rows.find((r) => r.request_id === id)!);
}

/** What must be equal across engines: every figure, with booleans as booleans and the per-call ids of upstream's answer blanked. */
function figures(row: Recorded) {
  const { request_id: _id, ...rest } = row;
  const blank = (body: string | null) => body?.replace(/"(id|created)":\s*("[^"]*"|\d+)/g, '"$1":"-"') ?? null;
  return { ...rest, stream: Boolean(row.stream), truncated: row.truncated === null ? null : Boolean(row.truncated), response_body: blank(row.response_body) };
}

describe("recording on PostgreSQL", () => {
  it("records JSON, streaming and failed calls with the same figures as on SQLite", async () => {
    const byEngine = new Map<TestEngine, Recorded[]>();
    for (const [engine, rig] of rigs) byEngine.set(engine, await recorded(rig, await makeCalls(rig)));
    const pg = byEngine.get("postgres")!;

    // What the figures must be, so the comparison below cannot pass on two empty or wrong sets.
    const usage = expectedUsage(chatBody());
    expect(pg[0]).toMatchObject({ status: 200, error_type: null, prompt_tokens: usage.prompt_tokens, completion_tokens: usage.completion_tokens, usage_source: "upstream", team: "ml", project: "search" });
    expect(pg[0]!.cost_nano).toBeGreaterThan(0);
    expect(JSON.parse(pg[0]!.response_body!).choices[0].message.content).toBe(fakeContent());
    expect(pg[1]).toMatchObject({ stream: true, status: 200, usage_source: "upstream", user: "ana", truncated: false });
    expect(pg[2]).toMatchObject({ status: 500, error_type: "server_error", usage_source: "none", cost_nano: 0 });
    expect(pg[3]).toMatchObject({ stream: true, status: 200, error_type: expect.any(String), usage_source: "estimated" });
    expect(pg[4]).toMatchObject({ stream: true, usage_source: "estimated", model: "meta-llama/Llama-3.3-70B-Instruct" });
    expect(pg[4]!.cost_nano).toBeGreaterThan(0);
    for (const row of pg) expect(row.request_body).toContain('"messages"');

    expect(pg.map(figures)).toEqual(byEngine.get("sqlite")!.map(figures));
  });

  it("answers /healthz 200 with the database writable", async () => {
    const rig = rigs.get("postgres")!;
    // The writer reports its first probe before the server listens, so no wait is needed.
    const res = await fetch(`${rig.server.url}/healthz`);
    expect(res.status).toBe(200);
    const body = await res.json();
    expect(body).toMatchObject({ status: "ok", database: { writable: true } });
  });

  it("answers /metrics with the recorder's commit times and the cost it priced", async () => {
    const rig = rigs.get("postgres")!;
    await postChat(rig, chatBody()).then((r) => r.text());
    await rig.server.recorder.flushed();
    const res = await rig.server.api("/metrics");
    expect(res.status).toBe(200);
    const text = await res.text();
    const count = Number(/^tollbooth_recorder_flush_duration_seconds_count (\d+)/m.exec(text)?.[1]);
    expect(count).toBeGreaterThan(0);
    expect(text).toMatch(/^tollbooth_cost_usd_total\{model="meta-llama\/Llama-3\.1-8B-Instruct",team="ml",status="2xx"\} [0-9.e-]+$/m);
  });

  it("keeps recording while slow reads hold every connection of the writer's jobs pool", async () => {
    const rig = rigs.get("postgres")!;
    // The budgets table locked by another session: every metrics scrape and spend-control poll
    // then waits on it, each holding one of the writer's jobs connections, until none is free.
    const locker = new pg.Client({ connectionString: rig.server.config.DATABASE_URL });
    await locker.connect();
    try {
      await locker.query("BEGIN");
      await locker.query("LOCK TABLE budgets IN ACCESS EXCLUSIVE MODE");
      await Promise.all(Array.from({ length: 6 }, () => rig.server.api("/metrics").then((r) => r.text())));
      const waiting = await locker.query<{ n: number }>(
        "SELECT COUNT(*)::int AS n FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'",
      );
      expect(waiting.rows[0]!.n).toBeGreaterThanOrEqual(3); // the whole jobs pool (3 with the default PG_POOL_MAX)

      const started = Date.now();
      const res = await postChat(rig, chatBody());
      await res.text();
      const [row] = await recorded(rig, [res.headers.get("x-tollbooth-request-id")!]);
      expect(row).toMatchObject({ status: 200 });
      expect(Date.now() - started).toBeLessThan(3_000);
      expect((await fetch(`${rig.server.url}/healthz`)).status).toBe(200);
    } finally {
      await locker.query("ROLLBACK").catch(() => {});
      await locker.end();
    }
  });
});
