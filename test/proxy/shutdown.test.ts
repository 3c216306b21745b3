import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Database from "better-sqlite3";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startFakeUpstream, type FakeUpstream } from "../fake-upstream.ts";
import { waitFor } from "../harness.ts";
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

/** Start `npm start`'s entry point as a real process; resolves with its URL once it listens. */
function startProcess(env: Record<string, string>) {
  const child = spawn(process.execPath, ["--import", "tsx", "server/main.ts"], {
    env: { ...process.env, ...env, PORT: "0", LOG_LEVEL: "info" },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let log = "";
  const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
  const url = new Promise<string>((resolve, reject) => {
    child.stderr.on("data", (d: Buffer) => {
      log += d.toString();
      const m = /listening on (http:\/\/\S+)/.exec(log);
      if (m) resolve(m[1]!);
    });
    void exited.then(() => reject(new Error(`server exited early:\n${log}`)));
  });
  return { child, url, exited, log: () => log };
}

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
