import type { Config } from "../config.ts";
import { StartupError } from "../startup-error.ts";

// How one process shares PG_POOL_MAX between its threads on PostgreSQL. Every thread has a pool
// of its own (a pool cannot cross threads), so the setting is split here, once, and each thread
// opens its part: N instances then hold at most N × PG_POOL_MAX connections. The recorder's
// connections are a pool of their own, so a slow rollup, metrics read or page query can wait for
// a connection but never take the one the call rows go through.

export interface ConnectionBudget {
  /** The writer thread's recorder (batch inserts, the write probe, the price refresh per batch). */
  recorder: number;
  /** The writer thread's cron jobs, metrics reads and spend control. */
  writerJobs: number;
  /** Each reader thread (dashboard pages and /api). */
  perReader: number;
  /** The serving thread's own handle (tests, tools, the demo's seeding; /v1 never uses it). */
  serving: number;
}

/** Recorder connections when the budget allows: two batches in flight, one encoded while the other commits. */
const RECORDER_WANTED = 2;

/** The split of PG_POOL_MAX; a StartupError when it is too small to give every thread one connection. */
export function connectionBudget(config: Pick<Config, "PG_POOL_MAX" | "READER_THREADS">): ConnectionBudget {
  const total = config.PG_POOL_MAX;
  const readers = config.READER_THREADS;
  // serving 1, recorder 1, writer jobs 1, one per reader.
  const least = 3 + readers;
  if (total < least) {
    throw new StartupError(
      `PG_POOL_MAX=${total} is too small: with READER_THREADS=${readers} one process needs at least ${least} PostgreSQL connections (1 recorder, 1 for the writer's jobs, 1 per reader, 1 for the serving thread)`,
    );
  }
  // The second recorder connection comes before a second one for the jobs or the readers: the
  // write rate is what a busy instance runs out of first.
  const recorder = Math.min(RECORDER_WANTED, total - least + 1);
  const rest = total - 1 - recorder;
  // What is left is shared evenly by the writer's jobs and the readers; any remainder to the jobs.
  const perReader = Math.max(1, Math.floor(rest / (readers + 1)));
  return { recorder, writerJobs: rest - perReader * readers, perReader, serving: 1 };
}
