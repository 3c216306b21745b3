import { readlinkSync } from "node:fs";
import { setPriority } from "node:os";

/**
 * Lower this thread's CPU priority (Linux: a thread has its own nice value, addressed by its
 * thread id). On 2 cores a long dashboard query or rollup competes with the proxy for CPU, not
 * only for the event loop: at nice 10 a worker gets about a tenth of a core's share when the
 * serving thread wants it, and all of it when the serving thread is idle. Anywhere this is not
 * possible (another OS, a sandbox without /proc) it is skipped: priority is an optimisation.
 */
export function lowerThreadPriority(nice: number): boolean {
  try {
    const tid = Number(readlinkSync("/proc/thread-self").split("/").pop());
    if (!Number.isInteger(tid) || tid <= 0) return false;
    setPriority(tid, nice);
    return true;
  } catch {
    return false;
  }
}
