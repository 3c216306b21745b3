import { createServer, type IncomingMessage, type OutgoingHttpHeaders, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { request } from "undici";
import { createUpstreamAgent } from "../server/proxy/upstream.ts";
import { drained } from "../server/proxy/sse-pump.ts";
import { serveParent } from "./child-rpc.ts";

// The "bare proxy" target, a REFERENCE and not a product: the least a Node proxy can do per
// call, so its throughput and CPU per call are the floor that any Node proxy pays on this
// machine (one node:http server exchange plus one undici client exchange, sharing the cores with
// the load generator and the upstream). tollbooth's figures are read against it.
//
// It forwards POST /v1/* to the upstream with content-type and authorization, through an Agent
// with tollbooth's own settings (createUpstreamAgent). A JSON answer is read whole and sent with
// a Content-Length, as tollbooth does. An SSE answer is piped chunk by chunk as it arrives,
// waiting for drain like tollbooth's pump. It does NOTHING else: no recording, no validation or
// attribution, no header filtering, no timeouts, a bare 502 on failure. Keep it that way:
// anything added here raises the floor and hides tollbooth's own cost. Bodies are read the way
// tollbooth reads them, so that a slower idiom here does not flatter tollbooth either.

const upstream = process.env.BENCH_UPSTREAM_URL?.replace(/\/$/, ""); // ends in /v1
if (!upstream) throw new Error("BENCH_UPSTREAM_URL is required");
const agent = createUpstreamAgent();

/** The request body, read with plain listeners (no async iterator per call, as tollbooth). */
function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const parts: Buffer[] = [];
    req.on("data", (chunk: Buffer) => parts.push(chunk));
    req.once("error", reject);
    req.once("end", () => {
      const [first] = parts; // a small body arrives in one chunk: no copy then
      resolve(parts.length === 1 && first ? first : Buffer.concat(parts));
    });
  });
}

async function forward(req: IncomingMessage, res: ServerResponse): Promise<void> {
  const url = req.url ?? "/";
  if (req.method !== "POST" || !url.startsWith("/v1/")) {
    req.resume();
    res.writeHead(404).end();
    return;
  }
  const body = await readBody(req);
  const headers: Record<string, string> = {};
  if (req.headers["content-type"]) headers["content-type"] = req.headers["content-type"];
  if (req.headers.authorization) headers.authorization = req.headers.authorization;
  const up = await request(upstream + url.slice("/v1".length), { method: "POST", headers, body, dispatcher: agent });

  const contentType = up.headers["content-type"];
  const out: OutgoingHttpHeaders = contentType === undefined ? {} : { "content-type": contentType };
  if (typeof contentType === "string" && contentType.startsWith("text/event-stream")) {
    res.writeHead(up.statusCode, out);
    for await (const chunk of up.body as AsyncIterable<Buffer>) {
      if (!res.write(chunk)) await drained(res);
      if (res.destroyed) return void up.body.destroy();
    }
    res.end();
    return;
  }
  // body.arrayBuffer(), as tollbooth reads a JSON answer since 27e3e61 (cheaper than for await).
  const answer = Buffer.from(await up.body.arrayBuffer());
  out["content-length"] = answer.byteLength;
  res.writeHead(up.statusCode, out).end(answer);
}

const server = createServer((req, res) => {
  forward(req, res).catch(() => {
    if (!res.headersSent && !res.destroyed) res.writeHead(502).end();
    else res.destroy();
  });
});
await new Promise<void>((resolve, reject) => {
  server.once("error", reject);
  server.listen(0, "127.0.0.1", () => resolve());
});

serveParent({ url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` }, {
  close: async () => {
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    server.closeAllConnections();
    await closed;
    await agent.close();
  },
});
