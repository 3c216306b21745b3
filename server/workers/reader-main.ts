import { parentPort, workerData } from "node:worker_threads";
import { createApp } from "../app.ts";
import { maxBodyBytes } from "../body-limit.ts";
import { connectDatabase } from "../db/connect.ts";
import { connectionBudget } from "../db/connection-budget.ts";
import { engineFor } from "../db/engine.ts";
import { createLogger } from "../log.ts";
import { clockFrom } from "./shared-clock.ts";
import { lowerThreadPriority } from "./thread-priority.ts";
import type { BridgedRequest, BridgedResponse, FromReader, ReaderData } from "./reader-messages.ts";

// A reader thread: the whole Hono app (dashboard pages and /api) on its own SQLite connection, or
// its share of PG_POOL_MAX on PostgreSQL (connection-budget.ts). On SQLite WAL lets it read while
// the writer thread writes; a slow query holds up only this thread and the dashboard requests
// queued on it, never /v1. Writes the pages make (sign-in sessions, prices, report settings) are
// short, and SQLite serialises them with the writer's.

const data = workerData as ReaderData;

// Below the serving thread: /v1 gets the CPU first.
lowerThreadPriority(10);
const port = parentPort!;
const send = (m: FromReader, transfer: ArrayBuffer[] = []) => port.postMessage(m, transfer);
const log = createLogger(data.config.LOG_LEVEL);

let app: ReturnType<typeof createApp>;
try {
  // Opened after the writer thread has migrated the database: a reader never migrates.
  const url = data.config.DATABASE_URL;
  const poolMax = engineFor(url).kind === "postgres" ? connectionBudget(data.config).perReader : 1;
  const db = await connectDatabase(url, { poolMax, migrate: false });
  app = createApp({ config: data.config, db, clock: clockFrom(data.clockBuffer), log, adminToken: data.adminToken });
} catch (err) {
  // A PostgreSQL that cannot be reached says so with DATABASE_URL masked (a StartupError).
  send({ type: "fatal", message: `reader: cannot open the database: ${(err as Error).message}` });
  process.exit(1);
}

async function handle(req: BridgedRequest): Promise<void> {
  const given = req.headers.find(([k]) => k.toLowerCase() === "host")?.[1];
  // A Host the URL parser would refuse must not turn a page into a 500.
  const host = given && /^[A-Za-z0-9.:[\]-]+$/.test(given) ? given : "localhost";
  let response: Response;
  try {
    const request = new Request(new URL(req.url, `http://${host}`), {
      method: req.method,
      headers: req.headers,
      body: bodyOf(req),
    });
    response = await app.fetch(request, { remoteAddress: req.remoteAddress });
  } catch (err) {
    log.error(`reader: ${(err as Error).stack ?? String(err)}`);
    response = Response.json({ error: { message: "tollbooth failed to answer this request", type: "server_error", code: "internal_error" } }, { status: 500 });
  }
  const headers: [string, string][] = [];
  for (const [k, v] of response.headers) if (k !== "set-cookie") headers.push([k, v]);
  for (const cookie of response.headers.getSetCookie()) headers.push(["set-cookie", cookie]);
  const body = response.body ? await response.arrayBuffer() : null;
  const out: BridgedResponse = { type: "response", id: req.id, status: response.status, headers, body };
  send(out, body ? [body] : []);
}

function bodyOf(req: BridgedRequest): ArrayBuffer | undefined {
  if (req.method === "GET" || req.method === "HEAD") return undefined;
  if (req.oversized) return new ArrayBuffer(maxBodyBytes(new URL(req.url, "http://x").pathname) + 1);
  return req.body ?? undefined;
}

port.on("message", (m: BridgedRequest) => void handle(m));
send({ type: "ready" });
