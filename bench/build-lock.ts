import { readFileSync, rmSync, writeFileSync } from "node:fs";
import { isAlive } from "../server/process-alive.ts";

/**
 * Run `build` holding the lock file `lock` (created exclusively, holding our pid). Benchmarks
 * share the cached data sets under bench/out: one process builds a data set, the others wait for
 * it instead of building the same files at the same time. A lock whose process is gone is left
 * over from a run that died, and is taken over.
 */
export async function holdingBuildLock<T>(lock: string, log: (msg: string) => void, build: () => Promise<T>): Promise<T> {
  for (let waiting = false; ; ) {
    try {
      writeFileSync(lock, String(process.pid), { flag: "wx" });
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw err;
      const owner = Number(readFileSync(lock, "utf8"));
      if (!isAlive(owner)) {
        rmSync(lock, { force: true });
        continue;
      }
      if (!waiting) log(`data set: process ${owner} is building it (${lock}); waiting for it`);
      waiting = true;
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 2_000);
    }
  }
  try {
    return await build();
  } finally {
    rmSync(lock, { force: true });
  }
}
