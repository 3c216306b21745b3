import { readdirSync, readFileSync } from "node:fs";

// Per-thread CPU time and context switches of a tollbooth process from /proc (Linux), grouped by
// what each thread does. Node names none of its threads, but tollbooth lowers the priority of its
// own workers (workers/thread-priority.ts), so the nice value tells them apart: the writer
// thread runs at nice 5 and each reader thread at nice 10. The serving thread is the one whose
// thread id is the process id. Everything else at nice 0 is Node's and V8's helpers (garbage
// collection and compiler threads, the libuv pool).

export type ThreadRole = "serving" | "writer" | "readers" | "helpers";

interface ThreadFigures {
  /** CPU seconds. */
  cpu: number;
  voluntarySwitches: number;
  involuntarySwitches: number;
  threads: number;
}

export type ByRole = Record<ThreadRole, ThreadFigures>;

const TICKS_PER_SECOND = 100;
const zero = (): ThreadFigures => ({ cpu: 0, voluntarySwitches: 0, involuntarySwitches: 0, threads: 0 });
const emptyByRole = (): ByRole => ({ serving: zero(), writer: zero(), readers: zero(), helpers: zero() });

function read(path: string): string | null {
  try {
    return readFileSync(path, "utf8");
  } catch {
    return null; // the thread ended while we were reading
  }
}

function roleOf(pid: number, tid: number, nice: number): ThreadRole {
  if (tid === pid) return "serving";
  if (nice === 5) return "writer";
  if (nice === 10) return "readers";
  return "helpers";
}

/** Every live thread of `pid`, summed by role. */
export function threadsByRole(pid: number): ByRole {
  const out = emptyByRole();
  let tids: string[];
  try {
    tids = readdirSync(`/proc/${pid}/task`);
  } catch {
    return out;
  }
  for (const name of tids) {
    const tid = Number(name);
    const stat = read(`/proc/${pid}/task/${tid}/stat`);
    const status = read(`/proc/${pid}/task/${tid}/status`);
    if (!stat || !status) continue;
    // After "pid (comm) ": state(0) … utime(11) stime(12) cutime(13) cstime(14) priority(15) nice(16)
    const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    const role = out[roleOf(pid, tid, Number(f[16]))];
    role.cpu += (Number(f[11]) + Number(f[12])) / TICKS_PER_SECOND;
    role.voluntarySwitches += Number(/voluntary_ctxt_switches:\s+(\d+)/.exec(status)?.[1] ?? 0);
    role.involuntarySwitches += Number(/nonvoluntary_ctxt_switches:\s+(\d+)/.exec(status)?.[1] ?? 0);
    role.threads++;
  }
  return out;
}

/** b − a for every figure but the thread count (b's). */
export function sinceByRole(a: ByRole, b: ByRole): ByRole {
  const out = emptyByRole();
  for (const role of Object.keys(out) as ThreadRole[]) {
    out[role] = {
      cpu: b[role].cpu - a[role].cpu,
      voluntarySwitches: b[role].voluntarySwitches - a[role].voluntarySwitches,
      involuntarySwitches: b[role].involuntarySwitches - a[role].involuntarySwitches,
      threads: b[role].threads,
    };
  }
  return out;
}

/** Several processes' figures added up, role by role. */
export function sumByRole(all: readonly ByRole[]): ByRole {
  const out = emptyByRole();
  for (const one of all) {
    for (const role of Object.keys(out) as ThreadRole[]) {
      out[role].cpu += one[role].cpu;
      out[role].voluntarySwitches += one[role].voluntarySwitches;
      out[role].involuntarySwitches += one[role].involuntarySwitches;
      out[role].threads += one[role].threads;
    }
  }
  return out;
}

/** CPU seconds of each child of `parent` (PostgreSQL's backends and auxiliary processes), by pid, with its command line. */
export function childrenCpu(parent: number): Map<number, { cpu: number; cmd: string }> {
  const out = new Map<number, { cpu: number; cmd: string }>();
  for (const name of readdirSync("/proc")) {
    if (!/^\d+$/.test(name)) continue;
    const stat = read(`/proc/${name}/stat`);
    if (!stat) continue;
    const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    if (Number(f[1]) !== parent) continue;
    const cmd = (read(`/proc/${name}/cmdline`) ?? "").replace(/\0/g, " ").trim();
    out.set(Number(name), { cpu: (Number(f[11]) + Number(f[12])) / TICKS_PER_SECOND, cmd });
  }
  return out;
}
