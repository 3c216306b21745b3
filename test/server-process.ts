import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { TEST_ADMIN_TOKEN } from "./harness.ts";

// `npm start`'s entry point as a real child process with a temp data folder, for tests that
// measure the server's own memory (an in-process server shares its heap with the test's clients).

export interface ServerProcess {
  child: ChildProcess;
  url: string;
  log(): string;
  /** Peak resident set size so far, from /proc (Linux), in bytes. */
  peakRss(): number;
  /** SIGTERM, wait for the exit, delete the data folder. */
  stop(): Promise<void>;
}

export async function startServerProcess(env: Record<string, string> = {}): Promise<ServerProcess> {
  const dir = mkdtempSync(join(tmpdir(), "tollbooth-process-"));
  const child = spawn(process.execPath, ["--import", "tsx", "server/main.ts"], {
    env: {
      ...process.env,
      PORT: "0",
      HOST: "127.0.0.1",
      LOG_LEVEL: "info", // the "listening on" line is how we learn the port
      DATABASE_URL: join(dir, "tollbooth.db"),
      ADMIN_TOKEN: TEST_ADMIN_TOKEN,
      CRON_ENABLED: "false",
      UPSTREAM_BASE_URL: "http://127.0.0.1:9/v1",
      ...env,
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let log = "";
  const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
  const url = await new Promise<string>((resolve, reject) => {
    const onData = (d: Buffer) => {
      log += d.toString();
      const m = /listening on (http:\/\/\S+)/.exec(log);
      if (m) resolve(m[1]!);
    };
    child.stdout!.on("data", onData);
    child.stderr!.on("data", onData);
    void exited.then(() => reject(new Error(`server exited early:\n${log}`)));
  });
  return {
    child,
    url,
    log: () => log,
    peakRss() {
      const kb = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${child.pid}/status`, "utf8"))?.[1];
      if (!kb) throw new Error("no VmHWM in /proc/<pid>/status");
      return Number(kb) * 1024;
    },
    async stop() {
      child.kill("SIGTERM");
      await exited;
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
