import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { waitFor } from "../harness.ts";
import { canRunAsPid1, commandLine, descendants, isAlive, killLeftovers, spawnServer, tryConnect } from "./child-server.ts";

let dir: string;
const spawned = new Set<number>();
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "tollbooth-pid1-"));
});
afterAll(() => {
  killLeftovers(spawned);
  rmSync(dir, { recursive: true, force: true });
});

// docs/deploy/Dockerfile runs node as the container's PID 1 with no init. The kernel does not
// apply default signal actions to a PID 1: a signal it has no handler for is dropped, so
// `docker stop` would wait out its timeout and SIGKILL. This runs node the same way and signals
// it from outside its PID namespace, as docker does.
describe.skipIf(!canRunAsPid1())("node as PID 1 (the Dockerfile's CMD)", () => {
  it("stops gracefully on SIGTERM sent from outside its PID namespace", async () => {
    const proc = spawnServer("node as pid 1", { DATABASE_URL: join(dir, "pid1.db"), ADMIN_TOKEN: "pid1-test-token-1234567890", SHUTDOWN_DRAIN_MS: "100" });
    spawned.add(proc.child.pid!);
    const base = await proc.url;
    const node = descendants(proc.child.pid!).find((pid) => /^\S*node .*server\/main\.ts/.test(commandLine(pid)));
    expect(node).toBeDefined();
    spawned.add(node!);

    process.kill(node!, "SIGTERM");
    await waitFor(() => !isAlive(node!), 15_000).catch(() => {
      throw new Error(`node (PID 1 in its namespace) ignored SIGTERM:\n${proc.log()}`);
    });
    expect(await proc.exited).toEqual({ code: 0, signal: null }); // unshare passes on node's exit code
    expect(proc.log()).toMatch(/SIGTERM: draining[\s\S]*stopped;/);
    expect(await tryConnect(base)).toBe("ECONNREFUSED");
  }, 60_000);
});
