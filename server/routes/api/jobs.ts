import { Hono } from "hono";
import type { AppDeps } from "../../app.ts";
import type { JobRun } from "../../db/schema.ts";
import { listJobRuns } from "../../spend/job-runs.ts";
import { parsePage, rejectUnknownParams } from "../../spend/query-params.ts";
import { toIso } from "../../time.ts";

/** GET /api/jobs: latest job runs first (?job=rollup, ?limit=, ?cursor= from next_cursor). */
export function jobsRoutes({ db }: Pick<AppDeps, "db">): Hono {
  const app = new Hono();
  app.get("/", (c) => {
    const query = c.req.query();
    rejectUnknownParams(query, ["job", "limit", "cursor"]);
    const page = parsePage(query, 50, 500);
    const runs = listJobRuns(db, { ...page, job: query.job });
    return c.json({ data: runs.map(runJson), next_cursor: runs.length === page.limit ? String(runs[runs.length - 1]!.id) : null });
  });
  return app;
}

function runJson(run: JobRun) {
  return {
    id: run.id,
    job: run.job,
    started_at: toIso(run.startedAt),
    finished_at: run.finishedAt === null ? null : toIso(run.finishedAt),
    duration_ms: run.finishedAt === null ? null : run.finishedAt - run.startedAt,
    rows: run.rows,
    error: run.error,
    status: run.error !== null ? "failed" : run.finishedAt === null ? "running" : "ok",
  };
}
