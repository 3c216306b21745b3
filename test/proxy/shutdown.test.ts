import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Database from "better-sqlite3";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startFakeUpstream, type FakeUpstream } from "../fake-upstream.ts";
import { waitFor } from "../harness.ts";
import { startServerProcess } from "../server-process.ts";
import { CALLER_KEY, chatBody } from "./proxy-harness.ts";

let upstream: FakeUpstream;
let dir: string;
beforeAll(async () => {
  upstream = await startFakeUpstream();
  dir = mkdtempSync(join(tmpdir(), "tollbooth-shutdown-"));
});
afterAll(async () => {
  await upstream.close();
  rmSync(dir, { recursive: true, force: true });
});

/** The server's entry point as a real process, with the cron jobs it runs by default. */
const startProcess = (env: Record<string, string>) => startServerProcess({ CRON_ENABLED: "true", ...env });

describe("SIGTERM under load loses no accepted call", () => {
  it("finishes in-flight calls, records every one, then exits 0", async () => {
    const dbPath = join(dir, "shutdown.db");
    const proc = startProcess({ DATABASE_URL: dbPath, UPSTREAM_BASE_URL: upstream.url, ADMIN_TOKEN: "shutdown-test-token-123456", SHUTDOWN_GRACE_MS: "10000" });
    const base = await proc.url;
    const N = 60;
    const calls = Array.from({ length: N }, (_, i) =>
      fetch(`${base}/v1/chat/completions`, {
        method: "POST",
        headers: {
          authorization: `Bearer ${CALLER_KEY}`,
          "content-type": "application/json",
          // Half JSON, half streamed; all slow enough to be in flight when SIGTERM lands.
          "x-fake-delay-ms": "400",
          "x-fake-chunk-delay-ms": "20",
        },
        body: JSON.stringify(chatBody({ stream: i % 2 === 0 })),
      }).then(async (r) => ({ status: r.status, body: await r.text() })),
    );
    await waitFor(() => upstream.requests.length >= N, 10_000);
    proc.child.kill("SIGTERM");
    const results = await Promise.all(calls);
    expect(results.map((r) => r.status)).toEqual(Array(N).fill(200));
    expect(results.filter((_r, i) => i % 2 === 0).every((r) => r.body.includes("[DONE]"))).toBe(true);
    expect(await proc.exited, proc.log()).toBe(0);

    const db = new Database(dbPath, { readonly: true });
    const rows = db.prepare("SELECT status, usage_source FROM calls").all() as Array<{ status: number; usage_source: string }>;
    db.close();
    expect(rows).toHaveLength(N);
    expect(rows.every((r) => r.status === 200 && r.usage_source === "upstream")).toBe(true);
  }, 60_000);

  it("refuses to start with bad config, naming the variable", async () => {
    const proc = startProcess({ DATABASE_URL: join(dir, "bad.db"), UPSTREAM_TIMEOUT_MS: "soon" });
    await expect(proc.url).rejects.toThrow();
    expect(await proc.exited).toBe(2);
    expect(proc.log()).toMatch(/invalid config: UPSTREAM_TIMEOUT_MS/);
  }, 30_000);
});
