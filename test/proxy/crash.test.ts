import { mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Database from "better-sqlite3";
import { Agent, request } from "undici";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startFakeUpstream, type FakeUpstream } from "../fake-upstream.ts";
import { startServerProcess } from "../server-process.ts";
import { waitFor } from "../harness.ts";
import { CALLER_KEY, chatBody } from "./proxy-harness.ts";

let upstream: FakeUpstream;
let dir: string;
beforeAll(async () => {
  upstream = await startFakeUpstream();
  dir = mkdtempSync(join(tmpdir(), "tollbooth-crash-"));
});
afterAll(async () => {
  await upstream.close();
  rmSync(dir, { recursive: true, force: true });
});

/**
 * Steady load from `connections` keep-alive clients until stopped. Each call's request id is
 * kept once its whole 200 body has arrived: those are the calls the client saw complete.
 */
function load(base: string, connections: number, headers: Record<string, string> = {}) {
  const agent = new Agent({ connections, pipelining: 1 });
  const completed: string[] = [];
  let running = true;
  const worker = async (i: number) => {
    while (running) {
      try {
        const res = await request(`${base}/v1/chat/completions`, {
          method: "POST",
          dispatcher: agent,
          headers: { authorization: `Bearer ${CALLER_KEY}`, "content-type": "application/json", ...headers },
          body: JSON.stringify(chatBody({ stream: i % 2 === 0 })),
        });
        const text = await res.body.text();
        const id = res.headers["x-tollbooth-request-id"];
        if (res.statusCode === 200 && typeof id === "string" && (i % 2 === 1 || text.includes("[DONE]"))) completed.push(id);
      } catch {
        return; // the server died under us
      }
    }
  };
  const done = Promise.all(Array.from({ length: connections }, (_, i) => worker(i)));
  return {
    completed,
    async stop() {
      running = false;
      await done;
      await agent.close().catch(() => {});
    },
  };
}

function rowsIn(dbPath: string): { ids: Set<string>; interrupted: number; total: number } {
  const db = new Database(dbPath, { readonly: true });
  const rows = db.prepare("SELECT request_id, error_type FROM calls").all() as Array<{ request_id: string; error_type: string | null }>;
  db.close();
  return { ids: new Set(rows.map((r) => r.request_id)), interrupted: rows.filter((r) => r.error_type === "interrupted").length, total: rows.length };
}

describe("a crash loses no call", () => {
  it("SIGKILL under load: every call whose 200 the client received is recorded after the restart, and every forwarded call has a row", async () => {
    const dbPath = join(dir, "kill.db");
    const env = { DATABASE_URL: dbPath, UPSTREAM_BASE_URL: upstream.url, ADMIN_TOKEN: "crash-test-token-123456789", RECORDER_FLUSH_MS: "1000" };
    upstream.reset();
    const completedAll: string[] = [];
    for (let round = 0; round < 2; round++) {
      const proc = startServerProcess(env);
      const base = await proc.url;
      // A slow-ish chunk cadence keeps streams in flight when the kill lands.
      const traffic = load(base, 16, { "x-fake-chunk-delay-ms": "5" });
      await waitFor(() => traffic.completed.length >= 300, 20_000);
      proc.child.kill("SIGKILL");
      await proc.exited;
      await traffic.stop();
      completedAll.push(...traffic.completed);
    }
    // The flush interval is 1 s, so without the journal a kill loses up to a second of rows.
    const proc = startServerProcess(env);
    const base = await proc.url;
    // The replay runs before the writer reports ready, so once it listens the rows are in.
    expect((await fetch(`${base}/healthz`)).status).toBe(200);
    proc.child.kill("SIGTERM");
    expect(await proc.exited, proc.log()).toBe(0);

    const { ids, interrupted, total } = rowsIn(dbPath);
    const missing = completedAll.filter((id) => !ids.has(id));
    expect(missing, `${missing.length} of ${completedAll.length} completed calls missing`).toEqual([]);
    // Calls cut by the kill are there too, as interrupted: nothing that reached upstream is silently gone.
    expect(total).toBeGreaterThanOrEqual(upstream.requests.length);
    expect(interrupted).toBeGreaterThan(0);
    // And nothing was written twice: request_id is unique and every upstream call has one row.
    expect(total).toBe(ids.size);
    expect(readdirSync(join(dir, "journal")).filter((f) => f.endsWith(".jsonl"))).toEqual([]);
  }, 120_000);
});
