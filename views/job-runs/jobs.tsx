import type { JobRun } from "../../server/db/schema.ts";
import type { JobSummary } from "../../server/job-runs/latest-runs.ts";
import { Time } from "../components/bits.tsx";
import { formatCount, formatMs } from "../../server/format.ts";

export const JOB_NAMES = ["rollup", "prices-sync", "retention", "rollup-rebuild", "reports"] as const;

function status(run: JobRun): ["ok" | "err" | "warn", string] {
  if (run.error !== null) return ["err", "failed"];
  if (run.finishedAt === null) return ["warn", "running"];
  return ["ok", "ok"];
}

/** Every scheduled job with its latest run: the rollup's frequent runs cannot hide the others. */
function JobSummaries({ summaries }: { summaries: JobSummary[] }) {
  return (
    <section>
      <h2>Every job</h2>
      <div class="table-scroll">
        <table class="striped jobs-summary">
          <thead>
            <tr>
              <th>Job</th>
              <th>Schedule</th>
              <th>Latest run</th>
              <th>Status</th>
              <th>Last success</th>
              <th>Error</th>
            </tr>
          </thead>
          <tbody>
            {summaries.map((s) => {
              const [kind, label] = s.latest ? status(s.latest) : (["warn", "never run"] as const);
              return (
                <tr>
                  <td>
                    <a href={`/jobs?job=${s.job}`}>{s.job}</a>
                  </td>
                  <td>{s.schedule === null ? <span class="muted">off (CRON_ENABLED=false)</span> : <code>{s.schedule}</code>}</td>
                  <td class="nowrap">{s.latest ? <Time iso={new Date(s.latest.startedAt).toISOString()} /> : <span class="muted">–</span>}</td>
                  <td>
                    <span class={`badge ${kind}`}>{label}</span>
                  </td>
                  <td class="nowrap">{s.lastSuccessAt === null ? <span class="muted">–</span> : <Time iso={new Date(s.lastSuccessAt).toISOString()} />}</td>
                  <td>{s.latest?.error ?? ""}</td>
                </tr>
              );
            })}
          </tbody>
        </table>
      </div>
    </section>
  );
}

export function JobsPage({ runs, job, summaries }: { runs: JobRun[]; job: string; summaries: JobSummary[] }) {
  return (
    <>
      <hgroup>
        <h1>Jobs</h1>
        <p>Background runs: the rollup that feeds every chart, report emails, the nightly price sync and retention.</p>
      </hgroup>
      <JobSummaries summaries={summaries} />
      <h2>Recent runs</h2>
      <nav class="segmented" aria-label="Job">
        <ul>
          {["", ...JOB_NAMES].map((name) => (
            <li>
              <a href={name ? `/jobs?job=${name}` : "/jobs"} aria-current={name === job ? "page" : undefined}>
                {name || "All jobs"}
              </a>
            </li>
          ))}
        </ul>
      </nav>
      {runs.length === 0 ? (
        <article class="empty-state">
          <h2>No runs yet</h2>
          <p>
            The rollup runs every 10 seconds when there are new calls (ROLLUP_CRON), the price sync and retention nightly. Run one now with <code>npm run job -- rollup</code>.
          </p>
        </article>
      ) : (
        <div class="table-scroll">
          <table class="striped jobs">
            <thead>
              <tr>
                <th>Job</th>
                <th>Started</th>
                <th class="num">Duration</th>
                <th class="num">Rows</th>
                <th>Status</th>
                <th>Error</th>
              </tr>
            </thead>
            <tbody>
              {runs.map((run) => {
                const [kind, label] = status(run);
                return (
                  <tr>
                    <td>{run.job}</td>
                    <td class="nowrap">
                      <Time iso={new Date(run.startedAt).toISOString()} />
                    </td>
                    <td class="num">{run.finishedAt === null ? "–" : formatMs(run.finishedAt - run.startedAt)}</td>
                    <td class="num">{run.rows === null ? "–" : formatCount(run.rows)}</td>
                    <td>
                      <span class={`badge ${kind}`}>{label}</span>
                    </td>
                    <td>{run.error ?? ""}</td>
                  </tr>
                );
              })}
            </tbody>
          </table>
        </div>
      )}
    </>
  );
}
