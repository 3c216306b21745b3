import { request } from "node:http";
import { startFakeUpstream, type FakeUpstream } from "../fake-upstream.ts";
import { startTestServer, waitFor, type TestServer, type TestServerOptions } from "../harness.ts";
import { asc, eq } from "drizzle-orm";
import { type Call, calls } from "../../server/db/schema.ts";
import { sqliteClient } from "../../server/db/sqlite.ts";
import { syncOrm } from "../sync-orm.ts";

export const CALLER_KEY = "sk-nscale-test-0123456789abcdefWXYZ";

export interface ProxyRig {
  upstream: FakeUpstream;
  server: TestServer;
  /** Base URL for an OpenAI client: `${server.url}/v1`. */
  baseURL: string;
  /** The recorded call rows, oldest first (after the recorder flushed). SQLite only, as is bodies(). */
  rows(): Call[];
  /** Wait until `n` call rows are in the database and return them, oldest first (either engine). */
  waitForRows(n: number, ms?: number): Promise<Call[]>;
  /** Wait for the row of the call the proxy answered with this x-tollbooth-request-id (either engine). */
  waitForCall(requestId: string | null, ms?: number): Promise<Call>;
  /** Raw bodies row for a call id. */
  bodies(callId: number): { request_body: string | null; response_body: string | null; truncated: number } | undefined;
  stop(): Promise<void>;
}

/** A fake Nscale upstream plus the real tollbooth server pointed at it (`opts.engine`: its database). */
export async function startProxyRig(env: Record<string, string> = {}, opts: TestServerOptions = {}): Promise<ProxyRig> {
  const upstream = await startFakeUpstream();
  const server = await startTestServer({ UPSTREAM_BASE_URL: upstream.url, ...env }, undefined, opts);
  const client = () => sqliteClient(server.db);
  const rows = () => syncOrm(server.db).query.calls.findMany({ orderBy: (c, { asc }) => asc(c.id) }).sync();
  return {
    upstream,
    server,
    baseURL: `${server.url}/v1`,
    rows,
    // Through the server's own Db handle (drizzle renders the query for its engine).
    waitForRows: (n, ms = 5_000) =>
      waitFor(async () => {
        const all = await server.db.orm.select().from(calls).orderBy(asc(calls.id));
        return all.length >= n && all;
      }, ms),
    waitForCall: async (requestId, ms = 5_000) => {
      if (!requestId) throw new Error("response had no x-tollbooth-request-id header");
      return waitFor(async () => (await server.db.orm.select().from(calls).where(eq(calls.requestId, requestId)))[0], ms);
    },
    bodies: (callId) => client().prepare("SELECT request_body, response_body, truncated FROM call_bodies WHERE call_id = ?").get(callId) as never,
    stop: async () => {
      await server.stop();
      await upstream.close();
    },
  };
}

export function chatBody(extra: Record<string, unknown> = {}) {
  return { model: "meta-llama/Llama-3.1-8B-Instruct", messages: [{ role: "user", content: "Say hello in five words" }], ...extra };
}

/** POST a chat completion with fetch (for byte-level checks the SDK would hide). */
export function postChat(rig: ProxyRig, body: unknown, headers: Record<string, string> = {}, init: RequestInit = {}) {
  return fetch(`${rig.baseURL}/chat/completions`, {
    method: "POST",
    headers: { authorization: `Bearer ${CALLER_KEY}`, "content-type": "application/json", ...headers },
    body: typeof body === "string" ? body : JSON.stringify(body),
    ...init,
  });
}

/** The `data:` payloads of an SSE body, in order. */
export function sseData(text: string): string[] {
  return text
    .split(/\n\n/)
    .map((e) => e.trim())
    .filter((e) => e.startsWith("data:"))
    .map((e) => e.slice(5).trim());
}

export interface RawResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
}

/**
 * One request with node:http, its target sent exactly as written: fetch (and node:http given a
 * URL string) would resolve `..`, `%2e%2e` and backslashes before anything is sent.
 */
export function sendRaw(baseUrl: string, path: string, init: { method?: string; headers?: Record<string, string>; body?: string } = {}): Promise<RawResponse> {
  const { hostname, port } = new URL(baseUrl);
  return new Promise((resolve, reject) => {
    const req = request({ hostname, port, path, method: init.method ?? (init.body === undefined ? "GET" : "POST"), headers: init.headers }, (res) => {
      let text = "";
      res.setEncoding("utf8");
      res.on("data", (c: string) => (text += c));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, text }));
    });
    req.on("error", reject);
    req.end(init.body);
  });
}
