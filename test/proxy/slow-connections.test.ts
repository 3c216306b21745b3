import { connect, type Socket } from "node:net";
import { request } from "node:http";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadConfig } from "../../server/config.ts";
import { waitFor } from "../harness.ts";
import { CALLER_KEY, chatBody, postChat, sseData, startProxyRig, type ProxyRig } from "./proxy-harness.ts";

// Slow clients (slow-loris) and gone clients. Raw sockets, so the test controls every byte and
// sees exactly when tollbooth closes the connection.

const HEADERS_TIMEOUT_MS = 500;
const REQUEST_TIMEOUT_MS = 1000;
const UPSTREAM_TIMEOUT_MS = 5000;

let rig: ProxyRig;
beforeAll(async () => {
  rig = await startProxyRig({
    HEADERS_TIMEOUT_MS: String(HEADERS_TIMEOUT_MS),
    REQUEST_TIMEOUT_MS: String(REQUEST_TIMEOUT_MS),
    UPSTREAM_TIMEOUT_MS: String(UPSTREAM_TIMEOUT_MS),
  });
});
afterAll(() => rig.stop());

interface Trickle {
  /** Milliseconds from the first byte until tollbooth closed the connection. */
  closedAfterMs: number;
  /** What tollbooth wrote before closing. */
  received: string;
}

/**
 * Send `head` at once, then one more piece from `drip(i)` every 100 ms until tollbooth closes
 * the connection (or `giveUpMs` passes: then the connection was not cut, and the test fails).
 */
function trickle(port: number, head: string, drip: (i: number) => string, giveUpMs = 5000): Promise<Trickle> {
  return new Promise((resolve, reject) => {
    const started = Date.now();
    const socket: Socket = connect(port, "127.0.0.1", () => socket.write(head));
    let received = "";
    let i = 0;
    const timer = setInterval(() => {
      if (Date.now() - started > giveUpMs) {
        socket.destroy();
        return reject(new Error(`connection still open after ${giveUpMs} ms of trickling`));
      }
      if (!socket.destroyed) socket.write(drip(i++));
    }, 100);
    socket.on("data", (b) => (received += b.toString("latin1")));
    socket.on("error", () => {}); // a reset after tollbooth's close is expected
    socket.on("close", () => {
      clearInterval(timer);
      resolve({ closedAfterMs: Date.now() - started, received });
    });
  });
}

describe("slow clients are cut off (HEADERS_TIMEOUT_MS, REQUEST_TIMEOUT_MS)", () => {
  it("a client trickling its headers gets 408 and is closed soon after HEADERS_TIMEOUT_MS", async () => {
    const t = await trickle(rig.server.port, "POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\n", (i) => `X-Pad-${i}: y\r\n`);
    expect(t.received).toMatch(/^HTTP\/1\.1 408 /);
    expect(t.closedAfterMs).toBeGreaterThanOrEqual(HEADERS_TIMEOUT_MS - 50);
    // Node checks on a timer (a quarter of the shorter timeout here); its default timer is 30 s, its default limit 60 s.
    expect(t.closedAfterMs).toBeLessThan(HEADERS_TIMEOUT_MS + 1500); // slack for a busy machine
  });

  it("a client trickling its body gets 408, is closed soon after REQUEST_TIMEOUT_MS, and the call is recorded as 408", async () => {
    rig.upstream.reset();
    const head = [
      "POST /v1/chat/completions HTTP/1.1",
      "Host: x",
      `Authorization: Bearer ${CALLER_KEY}`,
      "Content-Type: application/json",
      "Content-Length: 1000",
      "",
      '{"model":"m","messages":[',
    ].join("\r\n");
    const t = await trickle(rig.server.port, head, () => " ");
    expect(t.received).toMatch(/^HTTP\/1\.1 408 /);
    expect(t.closedAfterMs).toBeGreaterThanOrEqual(REQUEST_TIMEOUT_MS - 50);
    expect(t.closedAfterMs).toBeLessThan(REQUEST_TIMEOUT_MS + 1500);
    expect(rig.upstream.requests).toEqual([]);
    const row = await waitFor(() => rig.rows().find((r) => r.status === 408));
    expect(row).toMatchObject({ errorType: "request_timeout", endpoint: "/v1/chat/completions" });
  });

  it("a streamed answer longer than REQUEST_TIMEOUT_MS is not cut (the timeout covers receiving the request only)", async () => {
    const res = await postChat(rig, chatBody({ stream: true }), { "x-fake-chunks": "8", "x-fake-chunk-delay-ms": String(REQUEST_TIMEOUT_MS / 5) });
    const started = Date.now();
    const events = sseData(await res.text());
    expect(Date.now() - started).toBeGreaterThan(REQUEST_TIMEOUT_MS);
    expect(events.at(-1)).toBe("[DONE]");
    expect(await rig.waitForCall(res.headers.get("x-tollbooth-request-id"))).toMatchObject({ status: 200, errorType: null });
  });
});

describe("a client gone mid-stream", () => {
  it("closes the upstream connection at once, not at upstream's next chunk or UPSTREAM_TIMEOUT_MS", async () => {
    rig.upstream.reset();
    // stream-stall: upstream sends the first events, then nothing until its connection is closed.
    const body = JSON.stringify(chatBody({ stream: true }));
    const { port } = rig.server;
    const hungUpAt = await new Promise<number>((resolve, reject) => {
      const req = request({ port, host: "127.0.0.1", path: "/v1/chat/completions", method: "POST", headers: { authorization: `Bearer ${CALLER_KEY}`, "content-type": "application/json", "x-fake-scenario": "stream-stall" } }, (res) => {
        res.once("data", () => {
          req.destroy(); // the caller goes away after the first event
          resolve(Date.now());
        });
      });
      req.on("error", (err) => (err.message === "socket hang up" ? undefined : reject(err)));
      req.end(body);
    });
    await waitFor(() => rig.upstream.aborted === 1, UPSTREAM_TIMEOUT_MS + 2000);
    const upstreamClosedAfter = Date.now() - hungUpAt;
    // Typically under 100 ms; removing the abort-on-close wiring makes it UPSTREAM_TIMEOUT_MS.
    expect(upstreamClosedAfter).toBeLessThan(UPSTREAM_TIMEOUT_MS / 5);
    // The row waits for the token estimate, whose first use loads the tokenizer (slow on a busy machine).
    const row = await waitFor(() => rig.rows().find((r) => r.status === 499 && r.stream), 20_000);
    expect(row).toMatchObject({ errorType: "client_closed_request", usageSource: "estimated" });
  });
});

describe("UPSTREAM_MAX_CONNECTIONS", () => {
  it("caps the connections to upstream: calls beyond the cap wait for a free one", async () => {
    const capped = await startProxyRig({ UPSTREAM_MAX_CONNECTIONS: "1" });
    try {
      const delay = 400;
      const started = Date.now();
      const answers = await Promise.all([1, 2, 3].map(() => postChat(capped, chatBody(), { "x-fake-scenario": "slow", "x-fake-delay-ms": String(delay) })));
      expect(answers.map((r) => r.status)).toEqual([200, 200, 200]);
      // One connection: three 400 ms answers one after another (with 256 they overlap: ~400 ms).
      expect(Date.now() - started).toBeGreaterThanOrEqual(3 * delay - 30);
    } finally {
      await capped.stop();
    }
  });
});

describe("settings", () => {
  it("default to 10 s for headers, 60 s for the request, 256 upstream connections; headers may not outlast the request", () => {
    expect(loadConfig({})).toMatchObject({ HEADERS_TIMEOUT_MS: 10_000, REQUEST_TIMEOUT_MS: 60_000, UPSTREAM_MAX_CONNECTIONS: 256 });
    expect(() => loadConfig({ HEADERS_TIMEOUT_MS: "70000" })).toThrow("invalid config: HEADERS_TIMEOUT_MS: must not be larger than REQUEST_TIMEOUT_MS");
    expect(() => loadConfig({ UPSTREAM_MAX_CONNECTIONS: "0" })).toThrow(/UPSTREAM_MAX_CONNECTIONS/);
  });
});
