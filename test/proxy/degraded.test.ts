import { spawn, execFileSync } from "node:child_process";
import { chmodSync, chownSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Database from "better-sqlite3";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startFakeUpstream, type FakeUpstream } from "../fake-upstream.ts";
import { startServerProcess } from "../server-process.ts";
import { waitFor } from "../harness.ts";
import { CALLER_KEY, chatBody, postChat, startProxyRig } from "./proxy-harness.ts";

let upstream: FakeUpstream;
let dir: string;
beforeAll(async () => {
  upstream = await startFakeUpstream();
  dir = mkdtempSync(join(tmpdir(), "tollbooth-degraded-"));
  chmodSync(dir, 0o777);
});
afterAll(async () => {
  await upstream.close();
  rmSync(dir, { recursive: true, force: true });
});

async function timed(url: string): Promise<{ ms: number; status: number; body: string }> {
  const t0 = performance.now();
  const res = await fetch(url);
  const body = await res.text();
  return { ms: performance.now() - t0, status: res.status, body };
}

async function chat(base: string): Promise<number> {
  const res = await fetch(`${base}/v1/chat/completions`, {
    method: "POST",
    headers: { authorization: `Bearer ${CALLER_KEY}`, "content-type": "application/json" },
    body: JSON.stringify(chatBody()),
  });
  await res.text();
  return res.status;
}

const countCalls = (path: string) => {
  const db = new Database(path, { readonly: true });
  const n = db.prepare("SELECT count(*) FROM calls").pluck().get() as number;
  db.close();
  return n;
};

/** Poll until `fn` resolves truthy. */
async function until(fn: () => Promise<boolean>, ms: number): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await fn())) {
    if (Date.now() > deadline) throw new Error(`condition not met within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe("the proxy never waits on the database", () => {
  it("answers /healthz and proxies calls at once while another process holds the write lock", async () => {
    const rig = await startProxyRig();
    try {
      const dbPath = rig.server.config.DATABASE_URL;
      // A second process takes SQLite's write lock and keeps it for 4 s.
      const holder = spawn(
        process.execPath,
        ["-e", `const D=require("better-sqlite3");const d=new D(${JSON.stringify(dbPath)});d.exec("BEGIN IMMEDIATE");process.stdout.write("locked\\n");setTimeout(()=>{d.exec("COMMIT");process.exit(0)},4000)`],
        { stdio: ["ignore", "pipe", "inherit"] },
      );
      await new Promise<void>((resolve) => holder.stdout.once("data", () => resolve()));
      const exited = new Promise((r) => holder.on("exit", r));
      const health: number[] = [];
      const proxied: number[] = [];
      const t0 = Date.now();
      while (Date.now() - t0 < 3_500) {
        health.push((await timed(`${rig.server.url}/healthz`)).ms);
        const t = performance.now();
        expect((await postChat(rig, chatBody())).status).toBe(200);
        proxied.push(performance.now() - t);
      }
      await exited;
      // Before: both waited out SQLite's 5 s busy timeout on the serving thread. The 100 ms
      // target is measured by the benchmark; here a generous bound that the old code missed by 50×.
      expect(Math.max(...health)).toBeLessThan(1_000);
      expect(Math.max(...proxied)).toBeLessThan(1_000);
      // And every call made under the lock is recorded once the lock is gone.
      await rig.waitForRows(proxied.length, 15_000);
    } finally {
      await rig.stop();
    }
  }, 60_000);
});

const root = process.getuid?.() === 0;
const NOBODY = 65534;

describe.skipIf(!root)("recovery without a restart (run as a non-root user)", () => {
  it("a database read-only at start: calls still answered, /healthz says why, rows written once the permission is fixed", async () => {
    const data = join(dir, "ro");
    mkdirSync(data);
    chownSync(data, NOBODY, NOBODY);
    const dbPath = join(data, "t.db");
    const env = { DATABASE_URL: dbPath, UPSTREAM_BASE_URL: upstream.url, ADMIN_TOKEN: "degraded-test-token-123456" };
    const first = startServerProcess(env, { uid: NOBODY, gid: NOBODY });
    expect(await chat(await first.url)).toBe(200);
    first.child.kill("SIGTERM");
    expect(await first.exited, first.log()).toBe(0);

    chmodSync(dbPath, 0o444);
    const proc = startServerProcess(env, { uid: NOBODY, gid: NOBODY });
    const base = await proc.url;
    try {
      await until(async () => (await timed(`${base}/healthz`)).status === 503, 10_000);
      const degraded = await timed(`${base}/healthz`);
      expect(JSON.parse(degraded.body).reasons.join(" ")).toMatch(/not writable.*readonly/i);
      for (let i = 0; i < 10; i++) expect(await chat(base)).toBe(200);
      expect(countCalls(dbPath)).toBe(1);

      chmodSync(dbPath, 0o644);
      await until(async () => (await timed(`${base}/healthz`)).status === 200, 15_000);
      await waitFor(() => countCalls(dbPath) === 11, 15_000);
    } finally {
      proc.child.kill("SIGTERM");
      expect(await proc.exited, proc.log()).toBe(0);
    }
  }, 90_000);
});

function canMountTmpfs(): boolean {
  if (!root) return false;
  const probe = mkdtempSync(join(tmpdir(), "tollbooth-tmpfs-probe-"));
  try {
    execFileSync("mount", ["-t", "tmpfs", "-o", "size=1m", "tmpfs", probe], { stdio: "ignore" });
    execFileSync("umount", [probe], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  } finally {
    rmSync(probe, { recursive: true, force: true });
  }
}

describe.skipIf(!canMountTmpfs())("a full disk (a small tmpfs)", () => {
  it("keeps calls in the journal's preallocated space, exits non-zero saying so, survives a crashed restart on the full disk, and records them once there is room", async () => {
    const data = join(dir, "full");
    mkdirSync(data);
    execFileSync("mount", ["-t", "tmpfs", "-o", "size=8m", "tmpfs", data]);
    try {
      const dbPath = join(data, "t.db");
      const env = { DATABASE_URL: dbPath, UPSTREAM_BASE_URL: upstream.url, ADMIN_TOKEN: "degraded-test-token-123456", JOURNAL_SEGMENT_BYTES: "262144" };
      const proc = startServerProcess(env);
      const base = await proc.url;
      expect(await chat(base)).toBe(200);
      await waitFor(() => countCalls(dbPath) === 1, 10_000);
      // Fill every free byte.
      try {
        writeFileSync(join(data, "filler"), Buffer.alloc(16 * 1024 * 1024));
      } catch {
        // ENOSPC: the disk is full now, which is the point
      }
      const N = 40;
      for (let i = 0; i < N; i++) expect(await chat(base)).toBe(200);
      await until(async () => (await timed(`${base}/healthz`)).status === 503, 10_000);
      proc.child.kill("SIGTERM");
      expect(await proc.exited).toBe(3);
      expect(proc.log()).toMatch(new RegExp(`${N} call\\(s\\) are not in the database yet; they are kept in .*journal`));

      // Restart while the disk is still full, then crash: the replay could not commit, so the
      // journal must still hold every row (the old spill file was deleted before its rows committed).
      const stillFull = startServerProcess(env);
      await stillFull.url;
      await until(async () => (await timed(`${await stillFull.url}/healthz`)).status === 503, 10_000);
      stillFull.child.kill("SIGKILL");
      await stillFull.exited;

      rmSync(join(data, "filler"));
      const again = startServerProcess(env);
      await again.url;
      again.child.kill("SIGTERM");
      expect(await again.exited, again.log()).toBe(0);
      expect(countCalls(dbPath)).toBe(N + 1);
      expect(readdirSync(join(data, "journal")).filter((f) => f.endsWith(".jsonl"))).toEqual([]);
    } finally {
      execFileSync("umount", ["-l", data]);
    }
  }, 90_000);
});
