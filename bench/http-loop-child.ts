import { Client } from "undici";
import { serveParent } from "./child-rpc.ts";

// Clients other than the proxied load, in their own process: a dashboard user looping over heavy
// pages and /api queries, or a probe polling /healthz. Their answers can be large (a page is up
// to a few hundred KB) and reading them is CPU work; done in the load generator's process it
// would delay the proxied calls' own timing. Each loop is one keep-alive connection with one
// request in flight, like a browser tab or a monitoring agent, going round its list of requests
// until told to stop.

export interface LoopRequest {
  /** Name in the report. */
  label: string;
  path: string;
  headers?: Record<string, string>;
}

export interface LoopSpec {
  requests: LoopRequest[];
  /** Start a request at most every `intervalMs` (a poller); back to back when absent. */
  intervalMs?: number;
}

export interface LoopRecord {
  label: string;
  /** Start, epoch ms (performance.timeOrigin based, comparable across processes). */
  at: number;
  ms: number;
  /** HTTP status; 0 when the request failed without an answer. */
  status: number;
  bytes: number;
  error?: string;
}

const epochNow = () => performance.timeOrigin + performance.now();
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

let stopping = false;
let running: Promise<void>[] = [];
let clients: Client[] = [];
let records: LoopRecord[] = [];

async function loop(client: Client, spec: LoopSpec): Promise<void> {
  for (let i = 0; !stopping; i++) {
    const req = spec.requests[i % spec.requests.length]!;
    const at = epochNow();
    try {
      const res = await client.request({ path: req.path, method: "GET", headers: req.headers });
      const body = await res.body.arrayBuffer();
      records.push({ label: req.label, at, ms: epochNow() - at, status: res.statusCode, bytes: body.byteLength });
    } catch (err) {
      if (stopping) break; // aborted by stop(): not an answer the server gave
      records.push({ label: req.label, at, ms: epochNow() - at, status: 0, bytes: 0, error: (err as Error).message });
    }
    if (spec.intervalMs !== undefined) await sleep(Math.max(0, at + spec.intervalMs - epochNow()));
  }
}

serveParent(
  {},
  {
    /** Open one connection per loop and start them all; answers once they are running. */
    start: (arg) => {
      const { origin, loops } = arg as { origin: string; loops: LoopSpec[] };
      if (running.length) throw new Error("already running");
      if (new URL(origin).hostname !== "127.0.0.1") throw new Error(`refusing non-loopback origin ${origin}`);
      stopping = false;
      records = [];
      // Timeouts well above anything the server can take on today's code (a search of every call
      // while the proxy hammers the same event loop), so a slow answer is measured, not dropped.
      clients = loops.map(() => new Client(origin, { pipelining: 1, headersTimeout: 600_000, bodyTimeout: 600_000 }));
      running = loops.map((spec, i) => loop(clients[i]!, spec));
    },
    /**
     * Stop after the request in flight (waiting up to `graceMs` for it, then aborting it); answers
     * every request's record.
     */
    stop: async (arg) => {
      stopping = true;
      const graceMs = Number(arg ?? 60_000);
      const all = Promise.all(running);
      const timer = setTimeout(() => {
        for (const c of clients) c.destroy().catch(() => {});
      }, graceMs);
      await all;
      clearTimeout(timer);
      await Promise.all(clients.map((c) => c.close().catch(() => {})));
      running = [];
      clients = [];
      return records;
    },
    close: () => {},
  },
);
