import type { Db } from "../db/open.ts";
import type { JobRun } from "../db/schema.ts";
import type { Config } from "../config.ts";
import { sql } from "drizzle-orm";

// Every job the server runs, each with its schedule and its latest run, for the Jobs page: the
// rollup runs every 10 seconds, so a plain "latest 100 runs" list shows nothing else.

/** The jobs cron runs, in the order the page lists them, with the setting that schedules each. */
export const SCHEDULED_JOBS = [
  { job: "rollup", cron: "ROLLUP_CRON" },
  { job: "reports", cron: "REPORTS_CRON" },
  { job: "prices-sync", cron: "PRICES_SYNC_CRON" },
  { job: "retention", cron: "RETENTION_CRON" },
] as const satisfies readonly { job: string; cron: keyof Config }[];

export interface JobSummary {
  job: string;
  /** The cron expression, or null when this process runs no cron jobs (CRON_ENABLED=false). */
  schedule: string | null;
  latest: JobRun | null;
  /** Start of the latest run that finished without an error. */
  lastSuccessAt: number | null;
}

/** One seek per job on job_runs_job_idx. */
export async function jobSummaries(db: Db, config: Pick<Config, "CRON_ENABLED" | (typeof SCHEDULED_JOBS)[number]["cron"]>): Promise<JobSummary[]> {
  return Promise.all(
    SCHEDULED_JOBS.map(async ({ job, cron }) => {
      const latest = await db.get<JobRun>(
        sql`SELECT id, job, started_at AS "startedAt", finished_at AS "finishedAt", rows, error FROM job_runs WHERE job = ${job} ORDER BY id DESC LIMIT 1`,
      );
      const lastSuccess = await db.get<{ started_at: number }>(
        sql`SELECT started_at FROM job_runs WHERE job = ${job} AND finished_at IS NOT NULL AND error IS NULL ORDER BY id DESC LIMIT 1`,
      );
      return { job, schedule: config.CRON_ENABLED ? config[cron] : null, latest: latest ?? null, lastSuccessAt: lastSuccess?.started_at ?? null };
    }),
  );
}
