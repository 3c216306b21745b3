import { execFileSync } from "node:child_process";
import { closeSync, existsSync, fsyncSync, mkdtempSync, openSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { basename, join } from "node:path";

// A private copy of a cached data set, for a benchmark whose server writes (proxied calls,
// rollups, sessions): the cached file is shared by every benchmark and must stay as generated.

export interface DataCopy {
  path: string;
  bytes: number;
  /** cp, and then the fsync that writes the copy out (so its writeback is not measured later). */
  copySeconds: number;
  flushSeconds: number;
  remove(): void;
}

/**
 * Copy `source` (and its -wal, if a previous user left committed pages there) into a fresh
 * temporary folder. `cp --reflink=auto` shares the blocks on a filesystem that can (btrfs, XFS),
 * and copies them elsewhere. The copy is then fsynced: otherwise gigabytes of dirty pages would
 * be written back while the benchmark measures, on the same disk as the server's WAL.
 */
export function copyDataSet(source: string, name: string): DataCopy {
  const dir = mkdtempSync(join(tmpdir(), `tollbooth-bench-${name}-`));
  const path = join(dir, basename(source));
  try {
    const t0 = performance.now();
    for (const suffix of ["", "-wal"]) {
      if (existsSync(source + suffix)) execFileSync("cp", ["--reflink=auto", source + suffix, path + suffix]);
    }
    const t1 = performance.now();
    for (const suffix of ["", "-wal"]) {
      if (!existsSync(path + suffix)) continue;
      const fd = openSync(path + suffix, "r+");
      try {
        fsyncSync(fd);
      } finally {
        closeSync(fd);
      }
    }
    const t2 = performance.now();
    return {
      path,
      bytes: statSync(path).size + (existsSync(`${path}-wal`) ? statSync(`${path}-wal`).size : 0),
      copySeconds: (t1 - t0) / 1000,
      flushSeconds: (t2 - t1) / 1000,
      remove: () => rmSync(dir, { recursive: true, force: true }),
    };
  } catch (err) {
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }
}
