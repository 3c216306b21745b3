import { fork, type ChildProcess } from "node:child_process";

// Parent ↔ child protocol: the child sends {type:"ready", ...info} once listening, then answers
// {id, cmd, arg} with {id, result} or {id, error}. fork() keeps tsx's loader (execArgv is
// inherited), so children are plain .ts files.

export interface Child<Info> {
  info: Info;
  pid: number;
  call<T>(cmd: string, arg?: unknown): Promise<T>;
  /** Ask the child to shut down (cmd "close"), then wait for it to exit. */
  stop(): Promise<void>;
}

export async function startChild<Info>(file: string, env: Record<string, string> = {}, nodeFlags: string[] = []): Promise<Child<Info>> {
  // BENCH_PROFILE_DIR=/some/dir writes a V8 CPU profile per child on exit (NODE_OPTIONS refuses
  // --cpu-prof), which is how the hot spots in the closing note were found.
  const profileDir = process.env.BENCH_PROFILE_DIR;
  const execArgv = [...process.execArgv, ...nodeFlags, ...(profileDir ? ["--cpu-prof", `--cpu-prof-dir=${profileDir}`] : [])];
  const proc: ChildProcess = fork(file, [], { env: { ...process.env, ...env }, execArgv, stdio: ["ignore", "inherit", "inherit", "ipc"] });
  const pending = new Map<number, { resolve(v: unknown): void; reject(e: Error): void }>();
  let nextId = 1;
  const exited = new Promise<void>((resolve) => proc.once("exit", () => resolve()));

  const info = await new Promise<Info>((resolve, reject) => {
    proc.once("error", reject);
    proc.once("exit", (code) => reject(new Error(`${file} exited (${code}) before it was ready`)));
    proc.on("message", (raw) => {
      const msg = raw as { type?: string; id?: number; result?: unknown; error?: string };
      if (msg.type === "ready") return resolve(msg as Info);
      const waiter = msg.id === undefined ? undefined : pending.get(msg.id);
      if (!waiter) return;
      pending.delete(msg.id!);
      if (msg.error !== undefined) waiter.reject(new Error(msg.error));
      else waiter.resolve(msg.result);
    });
  });

  const call = <T>(cmd: string, arg?: unknown) =>
    new Promise<T>((resolve, reject) => {
      const id = nextId++;
      pending.set(id, { resolve: resolve as (v: unknown) => void, reject });
      proc.send({ id, cmd, arg });
    });

  return {
    info,
    pid: proc.pid!,
    call,
    async stop() {
      if (proc.exitCode !== null) return;
      await call("close").catch(() => {});
      const timer = setTimeout(() => proc.kill("SIGKILL"), 10_000);
      await exited;
      clearTimeout(timer);
    },
  };
}

/**
 * Child side: announce readiness and serve commands until "close" (which handlers may hook).
 * Every child answers "cpu" with its own CPU time (user + system, µs): unlike wall-clock
 * throughput on shared cores, CPU per request does not depend on who else got the cores.
 */
export function serveParent(info: Record<string, unknown>, handlers: Record<string, (arg: unknown) => unknown>): void {
  const builtIn: Record<string, (arg: unknown) => unknown> = {
    cpu: () => {
      const u = process.cpuUsage();
      return u.user + u.system;
    },
  };
  process.on("message", async (raw) => {
    const { id, cmd, arg } = raw as { id: number; cmd: string; arg?: unknown };
    try {
      const handler = handlers[cmd] ?? builtIn[cmd];
      if (!handler) throw new Error(`unknown command ${cmd}`);
      const result = await handler(arg);
      process.send!({ id, result: result ?? null });
      if (cmd === "close") process.disconnect();
    } catch (err) {
      process.send!({ id, error: (err as Error).message });
    }
  });
  process.send!({ type: "ready", ...info });
}
