import { createRoute, z } from "@hono/zod-openapi";
import type { AppDeps } from "../app.ts";
import type { JobRun } from "../db/schema.ts";
import { listJobRuns } from "./job-runs.ts";
import { pageParams } from "../usage/query-params.ts";
import { toIso } from "../time.ts";
import { queryText, strictQuery } from "../validation.ts";
import { apiRouter, errors, json, nextCursor } from "../api/openapi.ts";

const iso = z.string().meta({ description: "ISO 8601 UTC" });

const jobRunJson = z.object({
  id: z.number().int(),
  job: z.string(),
  started_at: iso,
  finished_at: iso.nullable(),
  duration_ms: z.number().int().nullable(),
  rows: z.number().int().nullable(),
  error: z.string().nullable(),
  status: z.enum(["ok", "failed", "running"]),
});

const listJobs = createRoute({
  method: "get",
  path: "/",
  summary: "The latest job runs, newest first",
  request: { query: strictQuery({ job: queryText().optional().meta({ description: "Only runs of this job, e.g. rollup" }), ...pageParams(50, 500) }) },
  responses: { 200: json(z.object({ data: z.array(jobRunJson), next_cursor: nextCursor }), "A page of job runs"), ...errors() },
});

/** GET /api/jobs: latest job runs first (?job=rollup, ?limit=, ?cursor= from next_cursor). */
export function jobsRoutes({ db }: Pick<AppDeps, "db">) {
  return apiRouter().openapi(listJobs, async (c) => {
    const { job, limit, cursor } = c.req.valid("query");
    const runs = await listJobRuns(db, { limit, ...(cursor !== undefined ? { before: cursor } : {}), job });
    return c.json({ data: runs.map(runJson), next_cursor: runs.length === limit ? String(runs[runs.length - 1]!.id) : null }, 200);
  });
}

function runJson(run: JobRun): z.infer<typeof jobRunJson> {
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
