import { mkdtempSync, rmSync } from "node:fs";
import { Agent, request, type IncomingMessage } from "node:http";
import { connect, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Database from "better-sqlite3";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startFakeUpstream, type FakeUpstream } from "../fake-upstream.ts";
import { waitFor } from "../harness.ts";
import { CALLER_KEY, chatBody } from "../proxy/proxy-harness.ts";
import { killLeftovers, spawnServer } from "./child-server.ts";

let upstream: FakeUpstream;
let dir: string;
const spawned = new Set<number>();
beforeAll(async () => {
  upstream = await startFakeUpstream();
  dir = mkdtempSync(join(tmpdir(), "tollbooth-drain-"));
});
afterAll(async () => {
  killLeftovers(spawned);
  await upstream.close();
  rmSync(dir, { recursive: true, force: true });
});

type Outcome = "ok" | "503" | `bad: ${string}`;

interface Sent {
  route: "v1" | "healthz";
  outcome: Outcome;
  /** The answer's `connection` header. */
  connection?: string;
}

const CHAT = JSON.stringify(chatBody());

/** One request on `agent` (or on an already connected socket); classifies what came back. */
function send(base: string, route: Sent["route"], via: { agent: Agent } | { socket: Socket }, fakeDelayMs = 30): Promise<Sent> {
  const { hostname, port } = new URL(base);
  const v1 = route === "v1";
  return new Promise((resolve) => {
    const req = request({
      host: hostname,
      port,
      method: v1 ? "POST" : "GET",
      path: v1 ? "/v1/chat/completions" : "/healthz",
      headers: v1 ? { authorization: `Bearer ${CALLER_KEY}`, "content-type": "application/json", "x-fake-delay-ms": String(fakeDelayMs) } : {},
      ...("agent" in via ? { agent: via.agent } : { createConnection: () => via.socket }),
    });
    req.on("error", (err: NodeJS.ErrnoException) => resolve({ route, outcome: `bad: ${err.code ?? err.message}` }));
    req.on("response", (res: IncomingMessage) => {
      let body = "";
      res.setEncoding("utf8");
      res.on("data", (d: string) => (body += d));
      res.on("error", (err: NodeJS.ErrnoException) => resolve({ route, outcome: `bad: body cut (${err.code ?? err.message})` }));
      res.on("end", () => resolve({ route, outcome: classify(res, body), connection: res.headers.connection }));
    });
    req.end(v1 ? CHAT : undefined);
  });
}

function classify(res: IncomingMessage, body: string): Outcome {
  if (res.statusCode === 200) return body.length > 0 ? "ok" : "bad: empty 200";
  if (res.statusCode !== 503) return `bad: status ${res.statusCode}`;
  if (res.headers["retry-after"] !== "1") return "bad: 503 without retry-after: 1";
  if (res.headers.connection !== "close") return "bad: 503 without connection: close";
  try {
    const err = (JSON.parse(body) as { error?: { type?: string; code?: string; message?: string } }).error;
    return err?.code === "shutting_down" && err.type === "server_error" && err.message ? "503" : `bad: 503 body ${body}`;
  } catch {
    return `bad: 503 body ${body}`;
  }
}

/** A keep-alive client firing requests back to back until it is told to go away (or fails). */
async function loop(base: string, route: Sent["route"], out: Sent[], running: () => void): Promise<void> {
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  for (;;) {
    const sent = await send(base, route, { agent });
    out.push(sent);
    if (sent.outcome === "ok") running();
    if (sent.outcome !== "ok") break; // 503 says retry after 1 s: this client goes away
  }
  agent.destroy();
}

function connected(base: string): Promise<Socket> {
  const { hostname, port } = new URL(base);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), hostname);
    socket.once("connect", () => resolve(socket));
    socket.once("error", reject);
  });
}

describe("SIGTERM under load: every request gets a full answer or a 503, none a reset", () => {
  it("answers kept-alive, accepted-but-unread and newly arriving requests with 503 + retry-after while in-flight calls finish", async () => {
    const dbPath = join(dir, "drain.db");
    // The drain window is longer than the default so that, on a loaded machine, this process
    // still sends its late requests while the window is open.
    const proc = spawnServer("node", {
      DATABASE_URL: dbPath,
      UPSTREAM_BASE_URL: upstream.url,
      ADMIN_TOKEN: "drain-test-token-1234567890",
      SHUTDOWN_GRACE_MS: "20000",
      SHUTDOWN_DRAIN_MS: "3000",
    });
    spawned.add(proc.child.pid!);
    const base = await proc.url;

    // 300 kept-alive clients looping on /v1 and on a Hono route.
    const results: Sent[] = [];
    const runningLoops = new Set<number>();
    const loops = Array.from({ length: 300 }, (_, i) => loop(base, i % 3 === 0 ? "healthz" : "v1", results, () => runningLoops.add(i)));
    // 100 connections the server has accepted (or holds in its backlog) with no request yet.
    const silent = await Promise.all(Array.from({ length: 100 }, () => connected(base)));
    await waitFor(() => runningLoops.size === 300, 30_000);
    // 20 slow calls in flight when the signal arrives, on kept-alive connections.
    const slowAgent = new Agent({ keepAlive: true });
    const slow = Array.from({ length: 20 }, () => send(base, "v1", { agent: slowAgent }, 5_000));
    await waitFor(() => upstream.requests.filter((r) => r.headers["x-fake-delay-ms"] === "5000").length === 20, 10_000);

    proc.child.kill("SIGTERM");
    await waitFor(() => proc.log().includes("SIGTERM: draining"), 10_000);
    // Requests that arrive after the signal: on the silent connections, and on 100 new ones.
    const late = [
      ...silent.map((socket, i) => send(base, i % 2 ? "v1" : "healthz", { socket })),
      ...Array.from({ length: 100 }, (_, i) => {
        const route = i % 2 ? "v1" : "healthz";
        return connected(base).then(
          (socket) => send(base, route, { socket }),
          (err: NodeJS.ErrnoException): Sent => ({ route, outcome: `bad: connect ${err.code}` }),
        );
      }),
    ];
    const lateResults = await Promise.all(late);
    const slowResults = await Promise.all(slow);
    slowAgent.destroy();
    await Promise.all(loops);
    const exit = await proc.exited;

    const all = [...results, ...lateResults, ...slowResults];
    const tally = (rs: Sent[]) => {
      const counts: Record<string, number> = {};
      for (const r of rs) counts[`${r.route} ${r.outcome}`] = (counts[`${r.route} ${r.outcome}`] ?? 0) + 1;
      return counts;
    };
    const bad = all.filter((r) => r.outcome.startsWith("bad"));
    expect(tally(bad), `requests that got neither a full answer nor a proper 503\n${proc.log()}`).toEqual({});
    // Every looping client was told to go away, and every late request got the 503.
    expect(results.filter((r) => r.outcome === "503")).toHaveLength(300);
    expect(tally(lateResults)).toEqual({ "healthz 503": 100, "v1 503": 100 });
    // The calls in flight finished, and told their callers not to reuse the connection.
    expect(slowResults.map((r) => `${r.outcome}, connection: ${r.connection}`)).toEqual(Array(20).fill("ok, connection: close"));
    expect(exit).toEqual({ code: 0, signal: null });

    // Every /v1 call answered 200 is recorded; refused ones never reached the proxy.
    const db = new Database(dbPath, { readonly: true });
    const rows = db.prepare("SELECT status, count(*) AS n FROM calls GROUP BY status").all();
    db.close();
    const okV1 = all.filter((r) => r.route === "v1" && r.outcome === "ok").length;
    expect(okV1).toBeGreaterThan(300);
    expect(rows).toEqual([{ status: 200, n: okV1 }]);
  }, 90_000);
});
