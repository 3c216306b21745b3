import type { ChildProcess } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { TEST_ADMIN_TOKEN } from "./harness.ts";
import { spawnServer } from "./shutdown/child-server.ts";

// `npm start`'s entry point as a real child process, for tests that kill it with real signals or
// measure its own memory (an in-process server shares its heap with the test's clients).

export interface ServerProcess {
  child: ChildProcess;
  /** The URL it listens on, once it logged it. */
  url: Promise<string>;
  /** The exit code, or the signal that ended it. */
  exited: Promise<number | string | null>;
  log(): string;
}

export function startServerProcess(env: Record<string, string>, opts: { uid?: number; gid?: number } = {}): ServerProcess {
  const proc = spawnServer("node", { HOST: "127.0.0.1", ...env }, opts);
  return { ...proc, exited: proc.exited.then(({ code, signal }) => code ?? signal) };
}

export interface TempServerProcess {
  child: ChildProcess;
  url: string;
  log(): string;
  /** Peak resident set size so far, from /proc (Linux), in bytes. */
  peakRss(): number;
  /** SIGTERM, wait for the exit, delete the data folder. */
  stop(): Promise<void>;
}

/** A server process on a fresh temp data folder with the test admin token. */
export async function startTempServerProcess(env: Record<string, string> = {}): Promise<TempServerProcess> {
  const dir = mkdtempSync(join(tmpdir(), "tollbooth-process-"));
  const proc = startServerProcess({
    DATABASE_URL: join(dir, "tollbooth.db"),
    ADMIN_TOKEN: TEST_ADMIN_TOKEN,
    UPSTREAM_BASE_URL: "http://127.0.0.1:9/v1",
    ...env,
  });
  const url = await proc.url;
  return {
    child: proc.child,
    url,
    log: proc.log,
    peakRss() {
      const kb = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${proc.child.pid}/status`, "utf8"))?.[1];
      if (!kb) throw new Error("no VmHWM in /proc/<pid>/status");
      return Number(kb) * 1024;
    },
    async stop() {
      proc.child.kill("SIGTERM");
      await proc.exited;
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
