import { mkdtempSync, rmSync } from "node:fs";
import { connect } from "node:net";
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
  dir = mkdtempSync(join(tmpdir(), "tollbooth-cutoff-"));
});
afterAll(async () => {
  killLeftovers(spawned);
  await upstream.close();
  rmSync(dir, { recursive: true, force: true });
});

interface Row {
  status: number;
  error_type: string | null;
  error_message: string | null;
  stream: number;
  completion_tokens: number | null;
}

describe("calls cut off at the end of the shutdown grace period", () => {
  it("are recorded as shutdown_aborted (503), not as closed by their callers", async () => {
    const dbPath = join(dir, "cutoff.db");
    const proc = spawnServer("node", {
      DATABASE_URL: dbPath,
      UPSTREAM_BASE_URL: upstream.url,
      ADMIN_TOKEN: "cutoff-test-token-1234567890",
      SHUTDOWN_GRACE_MS: "1500",
      SHUTDOWN_DRAIN_MS: "200",
    });
    spawned.add(proc.child.pid!);
    const base = await proc.url;
    const headers = { authorization: `Bearer ${CALLER_KEY}`, "content-type": "application/json" };
    const ended = (p: Promise<Response>) => p.then((r) => r.text()).then(() => "completed", (err: Error) => `cut: ${err.message}`);

    // A stream that stalls after its first token (the fake holds it open until the socket goes),
    // and a call whose upstream never sends its headers.
    const stream = ended(
      fetch(`${base}/v1/chat/completions`, {
        method: "POST",
        headers: { ...headers, "x-fake-scenario": "stream-stall" },
        body: JSON.stringify(chatBody({ stream: true })),
      }),
    );
    const stalled = ended(fetch(`${base}/v1/chat/completions`, { method: "POST", headers: { ...headers, "x-fake-delay-ms": "60000" }, body: JSON.stringify(chatBody()) }));
    // A caller still uploading its body when the grace period ends (raw socket: fetch would
    // not let the body stop half way).
    const uploading = connect(Number(new URL(base).port), "127.0.0.1");
    uploading.on("error", () => {});
    uploading.write(`POST /v1/chat/completions HTTP/1.1\r\nhost: x\r\nauthorization: Bearer ${CALLER_KEY}\r\ncontent-type: application/json\r\ncontent-length: 1000\r\n\r\n{"model":`);
    await waitFor(() => upstream.requests.length >= 2, 10_000);

    proc.child.kill("SIGTERM");
    expect(await stream).toMatch(/^cut/);
    expect(await stalled).toMatch(/^cut/);
    expect(await proc.exited).toEqual({ code: 0, signal: null });
    uploading.destroy();
    expect(proc.log()).toMatch(/grace period of 1500 ms over/);

    const db = new Database(dbPath, { readonly: true });
    const rows = db.prepare("SELECT status, error_type, error_message, stream, completion_tokens FROM calls ORDER BY stream, id").all() as Row[];
    db.close();
    expect(rows).toHaveLength(3);
    for (const row of rows) {
      expect(row.status).toBe(503);
      expect(row.error_type).toBe("shutdown_aborted");
      expect(row.error_message).toMatch(/shut down/);
    }
    // The stream keeps what was seen before the cut.
    expect(rows.find((r) => r.stream === 1)?.completion_tokens).toBeGreaterThan(0);
  }, 60_000);
});
