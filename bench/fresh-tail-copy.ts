import { execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { openDatabase } from "../server/db/open.ts";
import { sqliteClient } from "../server/db/sqlite.ts";
import { ROLLUP_WATERMARK, readState } from "../server/job-runs/job-state.ts";
import { DATA_END, insertCalls } from "./spend-data.ts";

// A private copy of the cached data set with `calls` calls past the rollup watermark (the "fresh
// tail" the usage query reads from raw calls), for the spend and page benchmarks. The shared
// file is never written: other benchmarks read it, and its calls must stay all rolled up.

export interface FreshTailCopy {
  path: string;
  /** Calls past the watermark. */
  calls: number;
  watermark: number;
  remove(): void;
}

/**
 * Copy `source` (cp --reflink=auto: instant where the file system shares blocks, a full copy
 * elsewhere) and insert `calls` calls created in [DATA_END - spanMs, DATA_END), with the data
 * set's mix of models, keys, users and failures, without rolling them up.
 */
export async function copyWithFreshTail(source: string, calls: number, spanMs: number, log: (msg: string) => void): Promise<FreshTailCopy> {
  const dir = mkdtempSync(join(tmpdir(), "tollbooth-fresh-tail-"));
  const path = join(dir, "data.db");
  const remove = () => rmSync(dir, { recursive: true, force: true });
  try {
    const t0 = performance.now();
    execFileSync("cp", ["--reflink=auto", source, path]);
    // A WAL left by a process that did not checkpoint holds committed pages: copy it along.
    if (existsSync(`${source}-wal`) && statSync(`${source}-wal`).size > 0) execFileSync("cp", ["--reflink=auto", `${source}-wal`, `${path}-wal`]);
    log(`fresh tail: copied the data set to ${path} (${((performance.now() - t0) / 1000).toFixed(0)} s)`);
    const db = openDatabase(path);
    const client = sqliteClient(db);
    try {
      const watermark = await readState(db, ROLLUP_WATERMARK);
      const maxId = client.prepare("SELECT COALESCE(MAX(id), 0) FROM calls").pluck().get() as number;
      if (maxId !== watermark) throw new Error(`the data set is not fully rolled up (watermark ${watermark}, newest call ${maxId})`);
      const t1 = performance.now();
      await insertCalls(db, 4242, DATA_END - spanMs, DATA_END, calls);
      const fresh = client.prepare("SELECT COUNT(*) FROM calls WHERE id > ?").pluck().get(watermark) as number;
      if (fresh !== calls) throw new Error(`expected ${calls} calls past the watermark, found ${fresh}`);
      log(`fresh tail: ${calls.toLocaleString("en-US")} calls inserted past the watermark (${((performance.now() - t1) / 1000).toFixed(0)} s)`);
      return { path, calls, watermark, remove };
    } finally {
      client.close();
    }
  } catch (err) {
    remove();
    throw err;
  }
}
