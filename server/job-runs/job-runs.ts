import { and, desc, eq, lt } from "drizzle-orm";
import type { Db } from "../db/database.ts";
import { jobRuns, type JobRun } from "../db/schema.ts";

// The job_runs log: one row per run of a job (cron, CLI or test), for GET /api/jobs.

export type JobName = "rollup" | "rollup-rebuild" | "prices-sync" | "retention" | "reports";

export interface OpenJobRun {
  succeed(rows: number): Promise<JobRun>;
  fail(err: unknown): Promise<JobRun>;
}

/**
 * Insert the run's row before the work starts, so a crash mid-run leaves a visible row without
 * finished_at. `now` is the start time (pinned in tests); the end time is `now` plus the measured
 * duration, so both stay on the caller's clock.
 */
export async function startJobRun(db: Db, job: JobName, now: number): Promise<OpenJobRun> {
  const t0 = performance.now();
  const [started] = await db.orm.insert(jobRuns).values({ job, startedAt: now }).returning({ id: jobRuns.id });
  const id = started!.id;
  const finish = async (rows: number | null, error: string | null) => {
    const [run] = await db.orm
      .update(jobRuns)
      .set({ finishedAt: now + Math.round(performance.now() - t0), rows, error })
      .where(eq(jobRuns.id, id))
      .returning();
    return run!;
  };
  return {
    succeed: (rows) => finish(rows, null),
    fail: (err) => finish(null, err instanceof Error ? err.message : String(err)),
  };
}

/** Run `work` as a logged job run; rethrows after logging a failure. */
export async function recordJobRun<T>(
  db: Db,
  job: JobName,
  now: number,
  work: () => Promise<T>,
  rowsOf: (result: T) => number,
): Promise<{ result: T; run: JobRun }> {
  const open = await startJobRun(db, job, now);
  let result: T;
  try {
    result = await work();
  } catch (err) {
    await open.fail(err);
    throw err;
  }
  return { result, run: await open.succeed(rowsOf(result)) };
}

/** Latest runs first, keyset-paged by id (ids grow with start order). */
export function listJobRuns(db: Db, opts: { limit: number; before?: number; job?: string }): Promise<JobRun[]> {
  const where = and(opts.before !== undefined ? lt(jobRuns.id, opts.before) : undefined, opts.job ? eq(jobRuns.job, opts.job) : undefined);
  return db.orm.select().from(jobRuns).where(where).orderBy(desc(jobRuns.id)).limit(opts.limit);
}
