import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Database from "better-sqlite3";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startFakeUpstream, type FakeUpstream } from "../fake-upstream.ts";
import { waitFor } from "../harness.ts";
import { CALLER_KEY, chatBody } from "../proxy/proxy-harness.ts";
import { commandLine, descendants, isAlive, killLeftovers, spawnServer, tryConnect } from "./child-server.ts";

let upstream: FakeUpstream;
let dir: string;
const spawned = new Set<number>();
beforeAll(async () => {
  upstream = await startFakeUpstream();
  dir = mkdtempSync(join(tmpdir(), "tollbooth-npm-start-"));
});
afterAll(async () => {
  killLeftovers(spawned); // only if the test failed: an orphaned server must not outlive the run
  await upstream.close();
  rmSync(dir, { recursive: true, force: true });
});

// Process managers and `docker stop` signal the process they started, which for the documented
// start command is npm. npm forwards SIGTERM to the shell running the script; unless the shell
// hands its place to node, the shell dies and node is orphaned, still serving.
describe("npm start forwards SIGTERM to the server", () => {
  it("SIGTERM to the npm process drains the in-flight call, records it, and leaves no process or listener behind", async () => {
    const dbPath = join(dir, "npm-start.db");
    const proc = spawnServer("npm start", { DATABASE_URL: dbPath, UPSTREAM_BASE_URL: upstream.url, ADMIN_TOKEN: "npm-start-test-token-123456", SHUTDOWN_GRACE_MS: "10000" });
    spawned.add(proc.child.pid!);
    const base = await proc.url;
    const tree = descendants(proc.child.pid!);
    for (const pid of tree) spawned.add(pid);
    const server = tree.find((pid) => /^\S*node .*server\/main\.ts/.test(commandLine(pid)));
    expect(server, `no server process under npm: ${tree.map(commandLine).join(" | ")}`).toBeDefined();

    const inFlight = fetch(`${base}/v1/chat/completions`, {
      method: "POST",
      headers: { authorization: `Bearer ${CALLER_KEY}`, "content-type": "application/json", "x-fake-delay-ms": "1500" },
      body: JSON.stringify(chatBody()),
    }).then(async (r) => ({ status: r.status, body: await r.text() }));
    await waitFor(() => upstream.requests.length >= 1, 10_000);

    process.kill(proc.child.pid!, "SIGTERM");
    const answer = await inFlight;
    expect(answer.status).toBe(200);
    const npmExit = await proc.exited;

    // The server itself must stop, not merely npm: poll its pid.
    await waitFor(() => !isAlive(server!), 15_000).catch(() => {
      throw new Error(`server process ${server} (${commandLine(server!)}) still running after npm exited (${JSON.stringify(npmExit)}):\n${proc.log()}`);
    });
    expect(tree.filter(isAlive), "processes left behind").toEqual([]);
    expect(await tryConnect(base)).toBe("ECONNREFUSED");
    expect(proc.log()).toMatch(/SIGTERM: draining/);
    expect(proc.log()).toMatch(/stopped; 1 calls recorded/);
    expect(npmExit).toEqual({ code: 0, signal: null });

    const db = new Database(dbPath, { readonly: true });
    const rows = db.prepare("SELECT status FROM calls").all();
    db.close();
    expect(rows).toEqual([{ status: 200 }]);
  }, 60_000);
});
