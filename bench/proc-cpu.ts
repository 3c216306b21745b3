import { readdirSync, readFileSync } from "node:fs";

// CPU time of whole process trees from /proc (Linux), for "calls per CPU-second" figures that do
// not depend on how the shared cores were split. A process's stat line counts every one of its
// threads (tollbooth's serving, writer and reader threads are threads of one process), and its
// cutime/cstime hold the CPU of children it has reaped (PostgreSQL backends that ended).

/** The fields after "pid (comm) ": comm may hold spaces and parentheses, so split after the last ")". */
function statFields(pid: number): string[] | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  } catch {
    return null; // the process ended while we were reading
  }
}

/** USER_HZ: the kernel reports times in 1/100 s on every Linux architecture node runs on. */
const TICKS_PER_SECOND = 100;

/** CPU seconds of `pid` itself (all threads), plus its reaped children's when `withReaped`. */
function ownSeconds(fields: string[], withReaped: boolean): number {
  // After comm: state(0) ppid(1) … utime(11) stime(12) cutime(13) cstime(14)
  const ticks = Number(fields[11]) + Number(fields[12]) + (withReaped ? Number(fields[13]) + Number(fields[14]) : 0);
  return ticks / TICKS_PER_SECOND;
}

/** CPU seconds used so far by `pid` alone (all its threads); 0 once it is gone. */
export function processCpuSeconds(pid: number): number {
  const fields = statFields(pid);
  return fields ? ownSeconds(fields, false) : 0;
}

/** The parent pid of `pid`, or null when it is gone. */
export function parentPid(pid: number): number | null {
  const fields = statFields(pid);
  return fields ? Number(fields[1]) : null;
}

/**
 * CPU seconds used so far by `pid`, its live children (one level: PostgreSQL's backends and
 * auxiliary processes under the postmaster) and the children it already reaped.
 */
export function treeCpuSeconds(pid: number): number {
  const root = statFields(pid);
  if (!root) return 0;
  let total = ownSeconds(root, true);
  for (const name of readdirSync("/proc")) {
    if (!/^\d+$/.test(name)) continue;
    const fields = statFields(Number(name));
    if (fields && Number(fields[1]) === pid && fields[0] !== "Z") total += ownSeconds(fields, false);
  }
  return total;
}
