import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import { connect } from "node:net";
import { fileURLToPath } from "node:url";

export const REPO_ROOT = fileURLToPath(new URL("../..", import.meta.url));

export interface ChildServer {
  child: ChildProcess;
  /** The URL the server logged ("listening on http://…"); rejects if the process ends first. */
  url: Promise<string>;
  /** Exit of the spawned process itself (npm, or node when started directly). */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** Everything written to stdout and stderr so far (by every process holding the pipes). */
  log(): string;
}

const NODE_ENTRY = ["--import", "tsx", "server/main.ts"];
// node as PID 1 of a new PID namespace, the way a container runs the Dockerfile's CMD.
const AS_PID_1 = ["--pid", "--fork", "--mount-proc"];

/** Whether this machine lets us create a PID namespace (root or user namespaces allowed). */
export function canRunAsPid1(): boolean {
  return spawnSync("unshare", [...AS_PID_1, "true"], { stdio: "ignore" }).status === 0;
}

/**
 * Start tollbooth as a real process: `npm start` exactly as the README documents it, the node
 * entry point directly, or node as PID 1 in its own PID namespace (as in a container). PORT=0;
 * the URL is read from the "listening on" log line.
 */
export function spawnServer(how: "npm start" | "node" | "node as pid 1", env: Record<string, string>, as: { uid?: number; gid?: number } = {}): ChildServer {
  const [cmd, args] =
    how === "npm start" ? ["npm", ["start"]] : how === "node" ? [process.execPath, NODE_ENTRY] : ["unshare", [...AS_PID_1, process.execPath, ...NODE_ENTRY]];
  const child = spawn(cmd, args, {
    cwd: REPO_ROOT,
    env: { ...process.env, PORT: "0", LOG_LEVEL: "info", CRON_ENABLED: "false", ...env },
    stdio: ["ignore", "pipe", "pipe"],
    ...as,
  });
  let log = "";
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.on("exit", (code, signal) => resolve({ code, signal })),
  );
  const url = new Promise<string>((resolve, reject) => {
    const onData = (d: Buffer) => {
      log += d.toString();
      const m = /listening on (http:\/\/\S+)/.exec(log);
      if (m) resolve(m[1]!);
    };
    child.stdout.on("data", onData);
    child.stderr.on("data", onData);
    void exited.then(() => setTimeout(() => reject(new Error(`server exited before listening:\n${log}`)), 50));
  });
  return { child, url, exited, log: () => log };
}

/** Every live descendant of `pid` (children, grandchildren…), read from /proc (Linux). */
export function descendants(pid: number): number[] {
  const parentOf = new Map<number, number>();
  for (const name of readdirSync("/proc")) {
    if (!/^\d+$/.test(name)) continue;
    try {
      // "pid (comm) state ppid …": comm may hold spaces and parentheses, so split after the last ")".
      const stat = readFileSync(`/proc/${name}/stat`, "utf8");
      const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      if (fields[0] !== "Z") parentOf.set(Number(name), Number(fields[1]));
    } catch {
      // the process ended while we were reading
    }
  }
  const out: number[] = [];
  const walk = (p: number) => {
    for (const [child, parent] of parentOf) {
      if (parent === p) {
        out.push(child);
        walk(child);
      }
    }
  };
  walk(pid);
  return out;
}

export function isAlive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return stat.slice(stat.lastIndexOf(")") + 2)[0] !== "Z";
  } catch {
    return false;
  }
}

export function commandLine(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0").join(" ").trim();
  } catch {
    return "";
  }
}

/** Resolves with the socket error code of a TCP connect to `url` ("connected" if it was accepted). */
export function tryConnect(url: string): Promise<string> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve) => {
    const socket = connect(Number(port), hostname);
    socket.once("connect", () => {
      socket.destroy();
      resolve("connected");
    });
    socket.once("error", (err: NodeJS.ErrnoException) => resolve(err.code ?? err.message));
  });
}

/** Kill, with SIGKILL, whichever of `pids` still live (cleanup after a failed test). */
export function killLeftovers(pids: Iterable<number>): void {
  for (const pid of pids) {
    if (!isAlive(pid)) continue;
    try {
      process.kill(pid, "SIGKILL");
    } catch {
      // already gone
    }
  }
}
