import { readdirSync, readFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { readText } from "../../server/sim/wire.ts";
import { startTestServer, waitFor, type TestServer } from "../harness.ts";
import { sendRaw } from "./proxy-harness.ts";
import { hexSecret, leakedWindows } from "./secret-windows.ts";
import { sqliteClient } from "../../server/db/sqlite.ts";
import { syncOrm } from "../sync-orm.ts";

// Secrets reach tollbooth from the caller (its key, in any header, the URL or the body) and come
// back from upstream (echoed in error messages and bodies, JSON-escaped, percent-encoded). None
// of them may be stored: no 8-character window of any of them may appear anywhere in the data
// folder (the SQLite file, its WAL, anything else), the API or the request detail page.

/**
 * An upstream that echoes what it received, the way careless providers do: in the error
 * message, and in the body as JSON written PHP-style (`/` as `\/`). `x-echo`: `error` (401,
 * default), `ok` (200 completion quoting the request), `stream` (SSE quoting it), `text` (a
 * plain-text 503), `raw` (the `x-echo-text` header as a 400 JSON body, written by hand).
 */
async function startEchoUpstream(): Promise<{ url: string; server: Server }> {
  const server = createServer(async (req, res) => {
    const body = await readText(req);
    const h = req.headers;
    const message = `Incorrect API key provided: ${h.authorization ?? "-"}; x-api-key: ${h["x-api-key"] ?? "-"}; url: ${req.url}; body: ${body}`;
    const phpJson = (v: unknown) => JSON.stringify(v).replaceAll("/", "\\/");
    const mode = h["x-echo"] ?? "error";
    if (mode === "raw") {
      res.writeHead(400, { "content-type": "application/json" });
      return void res.end(String(h["x-echo-text"]));
    }
    if (mode === "text") {
      // Plain text, the caller's key across the 500th character where a stored excerpt is cut.
      res.writeHead(503, { "content-type": "text/plain" });
      return void res.end(`${"x".repeat(490)} ${h.authorization?.slice("Bearer ".length)} is over quota`);
    }
    if (mode === "ok") {
      const reply = { id: "chatcmpl-echo", object: "chat.completion", model: "echo", choices: [{ index: 0, message: { role: "assistant", content: message } }], usage: { prompt_tokens: 3, completion_tokens: 5, total_tokens: 8 } };
      res.writeHead(200, { "content-type": "application/json" });
      return void res.end(phpJson(reply));
    }
    if (mode === "stream") {
      res.writeHead(200, { "content-type": "text/event-stream" });
      res.write(`data: ${phpJson({ id: "chatcmpl-echo", choices: [{ index: 0, delta: { content: message } }] })}\n\n`);
      res.write(`data: ${JSON.stringify({ id: "chatcmpl-echo", choices: [], usage: { prompt_tokens: 3, completion_tokens: 5, total_tokens: 8 } })}\n\n`);
      return void res.end("data: [DONE]\n\n");
    }
    res.writeHead(401, { "content-type": "application/json" });
    res.end(phpJson({ error: { message, type: "authentication_error", code: "invalid_api_key" }, received: { headers: h, url: req.url, body } }));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`, server };
}

const chat = (content: string, extra: Record<string, unknown> = {}) => ({ model: "meta-llama/Llama-3.1-8B-Instruct", messages: [{ role: "user", content }], ...extra });

let upstream: { url: string; server: Server };
let server: TestServer;
const secrets: string[] = [];
const responses: string[] = [];

beforeAll(async () => {
  upstream = await startEchoUpstream();
  server = await startTestServer({ UPSTREAM_BASE_URL: upstream.url, LOG_BODIES: "all" });
  const call = async (path: string, headers: Record<string, string>, body: unknown) => {
    const init = { headers: { "content-type": "application/json", ...headers }, body: JSON.stringify(body) };
    responses.push((await sendRaw(server.url, path, init)).text);
  };

  // Authorization: Basic, echoed as upstream received it.
  const password = `pw-${hexSecret(16)}`;
  const basic = Buffer.from(`svc-user:${password}`).toString("base64");
  secrets.push(basic, password);
  await call("/v1/chat/completions", { authorization: `Basic ${basic}` }, chat("hello"));

  // ?access_token= in the URL, echoed by upstream.
  const accessToken = `ya29.${hexSecret(24)}`;
  const bearer = hexSecret();
  secrets.push(accessToken, bearer);
  await call(`/v1/chat/completions?access_token=${accessToken}`, { authorization: `Bearer ${bearer}` }, chat("hello"));

  // x-api-key, echoed by upstream.
  const apiKey = hexSecret();
  secrets.push(apiKey);
  await call("/v1/chat/completions", { "x-api-key": apiKey }, chat("hello"));

  // A caller key with no known prefix (32 hex), echoed in the error and pasted into the body, in
  // every kind of answer: error, JSON, stream; also as the model name and in a refused path.
  const bare = hexSecret();
  secrets.push(bare);
  for (const echo of ["error", "ok", "stream", "text"]) {
    await call("/v1/chat/completions", { authorization: `Bearer ${bare}`, "x-echo": echo }, chat(`my key is ${bare}, why is it refused?`, { stream: echo === "stream" }));
  }
  await call("/v1/chat/completions", { authorization: `Bearer ${bare}`, "x-echo": "ok" }, chat("hi", { model: bare }));
  await call(`/v1/${bare}/../../admin`, { authorization: `Bearer ${bare}` }, chat("hi"));

  // A caller key with slashes: upstream writes it back as sk-…\/… (PHP-style JSON).
  const slashKey = `sk-${hexSecret(6)}/${hexSecret(20)}`;
  secrets.push(slashKey.slice(3));
  await call("/v1/chat/completions", { authorization: `Bearer ${slashKey}` }, chat("hello"));

  // Someone else's sk- key with a JSON-escaped slash, in an error body written by hand.
  const otherSlashKey = `${hexSecret(6)}/${hexSecret(20)}`;
  secrets.push(otherSlashKey);
  const rawError = `{"error":{"message":"key sk-${otherSlashKey.replace("/", "\\/")} is revoked","type":"invalid_request_error"}}`;
  await call("/v1/chat/completions", { authorization: `Bearer ${bearer}`, "x-echo": "raw", "x-echo-text": rawError }, chat("hello"));

  // Third-party secrets in the request body: an sk- key, a Bearer token, and an api_key nested in
  // escaped JSON (upstream echoes the body, so it is stored escaped once and twice).
  const otherSk = `live-${hexSecret(24)}`;
  const otherBearer = hexSecret(40);
  const nested = hexSecret();
  secrets.push(otherSk, otherBearer, nested);
  const content = `use sk-${otherSk} or Bearer ${otherBearer}; config ${JSON.stringify({ api_key: nested })}`;
  for (const echo of ["ok", "error"]) await call("/v1/chat/completions", { authorization: `Bearer ${bearer}`, "x-echo": echo }, chat(content));
  await waitFor(() => syncOrm(server.db).query.calls.findMany().sync().length === responses.length);
});

afterAll(async () => {
  await server?.stop();
  await new Promise((resolve) => upstream?.server.close(resolve));
});

describe("secrets never persist (caller keys and echoed credentials)", () => {
  it("records every call, with the errors and bodies kept (so there was something to scrub)", async () => {
    const rows = syncOrm(server.db).query.calls.findMany().sync();
    expect(rows.filter((r) => r.errorMessage?.includes("[redacted]")).length).toBeGreaterThanOrEqual(6);
    const bodies = sqliteClient(server.db).prepare("SELECT COUNT(*) FROM call_bodies WHERE response_body LIKE '%[redacted]%'").pluck().get();
    expect(bodies).toBeGreaterThanOrEqual(8);
    expect(rows.find((r) => r.endpoint.includes("admin"))).toMatchObject({ status: 400 });
    // The caller still got upstream's answer unchanged: only what is stored is scrubbed.
    expect(leakedWindows(responses.join("\n"), secrets.slice(0, 1))).not.toEqual([]);
  });

  it("leaves no 8-character window of any secret in any file of the data folder (SQLite file, WAL, call journal)", () => {
    const files = readdirSync(server.dir, { recursive: true, withFileTypes: true })
      .filter((f) => f.isFile())
      .map((f) => join(f.parentPath, f.name).slice(server.dir.length + 1));
    expect(files.some((f) => f.startsWith("journal"))).toBe(true);
    expect(files.some((f) => f.endsWith("-wal"))).toBe(true);
    for (const file of files) {
      const bytes = readFileSync(join(server.dir, file)).toString("latin1");
      expect(leakedWindows(bytes, secrets), file).toEqual([]);
    }
  });

  it("shows none in the API or on the request detail pages", async () => {
    const list = await (await server.api("/api/requests?limit=100")).text();
    expect(leakedWindows(list, secrets)).toEqual([]);
    for (const { id } of JSON.parse(list).data as Array<{ id: string }>) {
      const detail = await (await server.api(`/api/requests/${id}`)).text();
      expect(leakedWindows(detail, secrets), detail).toEqual([]);
      const page = await server.api(`/requests/${id}`);
      expect(page.status).toBe(200);
      expect(leakedWindows(await page.text(), secrets)).toEqual([]);
    }
  });
});
