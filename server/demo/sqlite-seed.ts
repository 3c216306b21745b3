import Database from "better-sqlite3";
import { existsSync, rmSync } from "node:fs";
import type { Logger } from "../log.ts";
import { Recorder } from "../recorder/recorder.ts";
import { rollupPending } from "../usage/rollups/buckets.ts";
import type { SeedStore, SeedStoreOptions } from "./seed-store.ts";

// The demo's seeding on SQLite: through the real Recorder, then one rollup.

export function sqliteSeedStore(opts: SeedStoreOptions, log: Logger): SeedStore {
  const sink = new Recorder(opts.db, { batchSize: 500, flushMs: 1_000, log, priceCall: opts.priceCall, beforeBatch: opts.beforeBatch });
  return {
    sink,
    // One rollup now so the dashboards read the history from rollups at once (the writer
    // thread's scheduler keeps them fresh after that).
    finish: async () => {
      await opts.db.transaction((tx) => rollupPending(tx), { immediate: true });
    },
    close: async () => {},
  };
}

/**
 * Delete the database files, but only of a database the demo seeded (its job_state holds
 * `seedMarker`) or one without calls; throws `refuse()`'s error otherwise.
 */
export function resetSqliteDatabase(dbPath: string, seedMarker: string, refuse: () => Error): void {
  if (dbPath === ":memory:" || !existsSync(dbPath)) return;
  const db = new Database(dbPath, { readonly: true, fileMustExist: true });
  try {
    const tables = new Set(db.prepare("SELECT name FROM sqlite_master WHERE type = 'table'").pluck().all() as string[]);
    const hasCalls = tables.has("calls") && db.prepare("SELECT EXISTS(SELECT 1 FROM calls)").pluck().get() === 1;
    const isDemo = tables.has("job_state") && db.prepare("SELECT EXISTS(SELECT 1 FROM job_state WHERE name = ?)").pluck().get(seedMarker) === 1;
    if (hasCalls && !isDemo) throw refuse();
  } finally {
    db.close();
  }
  for (const suffix of ["", "-wal", "-shm"]) rmSync(dbPath + suffix, { force: true });
}
