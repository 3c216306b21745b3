import { spawn, type ChildProcess } from "node:child_process";

export interface ServerProcess {
  child: ChildProcess;
  /** The URL it listens on, once it logged it. */
  url: Promise<string>;
  /** The exit code, or the signal that ended it. */
  exited: Promise<number | string | null>;
  log(): string;
}

/**
 * Run the server's real entry point (what `npm start` runs) as a child process; `url` resolves
 * once it logs that it listens. For tests that kill it with real signals.
 */
export function startServerProcess(env: Record<string, string>, opts: { uid?: number; gid?: number } = {}): ServerProcess {
  const child = spawn(process.execPath, ["--import", "tsx", "server/main.ts"], {
    env: { ...process.env, PORT: "0", HOST: "127.0.0.1", LOG_LEVEL: "info", CRON_ENABLED: "false", ...env },
    stdio: ["ignore", "pipe", "pipe"],
    ...opts,
  });
  let log = "";
  const exited = new Promise<number | string | null>((resolve) => child.on("exit", (code, signal) => resolve(code ?? signal)));
  const url = new Promise<string>((resolve, reject) => {
    child.stderr!.on("data", (d: Buffer) => {
      log += d.toString();
      const m = /listening on (http:\/\/\S+)/.exec(log);
      if (m) resolve(m[1]!);
    });
    void exited.then(() => reject(new Error(`server exited early:\n${log}`)));
  });
  return { child, url, exited, log: () => log };
}
