import { Hono } from "hono";
import type { AppDeps } from "../app.ts";
import { listJobRuns } from "./job-runs.ts";
import { jobSummaries } from "./latest-runs.ts";
import { JOB_NAMES, JobsPage } from "../../views/job-runs/jobs.tsx";
import type { PageEnv } from "../pages/page-env.tsx";

/** GET /jobs: every job with its schedule and latest run, then the latest 100 runs (the same rows as GET /api/jobs). */
export function jobsPages({ db, config }: Pick<AppDeps, "db" | "config">): Hono<PageEnv> {
  const app = new Hono<PageEnv>();
  app.get("/jobs", async (c) => {
    const summaries = await jobSummaries(db, config);
    const asked = c.req.query("job") ?? "";
    const job = (JOB_NAMES as readonly string[]).includes(asked) ? asked : "";
    const runs = await listJobRuns(db, { limit: 100, job: job || undefined });
    return c.render(<JobsPage runs={runs} job={job} summaries={summaries} />, { title: "Jobs", nav: "jobs" });
  });
  return app;
}
