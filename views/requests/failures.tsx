import type { FailureReport } from "../../server/requests/failures.ts";
import { Named, StatusBadge, Time } from "../components/bits.tsx";
import { formatCount, formatPercent } from "../../server/format.ts";
import { Sparkline } from "../usage/sparkline.tsx";
import { RANGE_OPTIONS } from "./requests.tsx";

const WINDOWS = RANGE_OPTIONS.filter(([v]) => v !== "");

export function FailuresPage({ report, range, examplesQuery }: { report: FailureReport; range: string; examplesQuery: (g: FailureReport["groups"][number]) => string }) {
  const shown = report.groups.reduce((n, g) => n + g.count, 0);
  const partial = report.groupedFrom > report.from;
  return (
    <>
      <hgroup>
        <h1>Failures</h1>
        <p>Failed calls grouped by status, error type and model. Click a group for its calls.</p>
      </hgroup>
      <nav class="segmented" aria-label="Time window">
        <ul>
          {WINDOWS.map(([value, label]) => (
            <li>
              <a href={`/requests/failed?range=${value}`} aria-current={value === range ? "page" : undefined}>
                {label}
              </a>
            </li>
          ))}
        </ul>
      </nav>
      {report.groups.length === 0 ? (
        <article class="empty-state">
          <h2>No failures in this window</h2>
          <p>
            Every call since <Time iso={new Date(report.from).toISOString()} /> succeeded. Failed calls (4xx, 5xx, timeouts, clients that went
            away, errors inside streams) show up here with their bodies.
          </p>
        </article>
      ) : (
        <>
          <p>
            <strong>{formatCount(report.total)}</strong> failed calls in this window
            {report.grouped > shown ? ` (the ${report.groups.length} largest groups are shown)` : ""}.
          </p>
          {partial ? (
            <p class="notice" role="status">
              Groups, counts and sparklines cover the latest {formatCount(report.grouped)} of them, since{" "}
              <Time iso={new Date(report.groupedFrom).toISOString()} />: one page groups at most that many failures so it stays fast. For earlier
              failures, search the <a href="/requests?status=error">request explorer</a>.
            </p>
          ) : null}
          <div class="table-scroll">
            <table class="striped failures">
              <thead>
                <tr>
                  <th>Status</th>
                  <th class="col-low">Error type</th>
                  <th>Model</th>
                  <th class="num">Calls</th>
                  <th class="col-low">Over time</th>
                  <th class="col-low">First seen</th>
                  <th>Last seen</th>
                  <th class="col-low">Example</th>
                </tr>
              </thead>
              <tbody>
                {report.groups.map((g) => (
                  <tr>
                    <td>
                      <a href={`/requests?${examplesQuery(g)}`} title="All calls of this group">
                        <StatusBadge status={g.status} errorType={g.errorType} />
                      </a>
                    </td>
                    <td class="col-low">{g.errorType ?? <span class="muted">–</span>}</td>
                    <td>
                      <Named name={g.model} kind="model" empty="no model" />
                    </td>
                    <td class="num" title={`${formatPercent(g.count / report.grouped)} of the failures ${partial ? "grouped" : "in this window"}`}>
                      <a href={`/requests?${examplesQuery(g)}`}>{formatCount(g.count)}</a>
                    </td>
                    <td class="col-low">
                      <Sparkline values={g.histogram} label={`${g.count} failures over the window`} />
                    </td>
                    <td class="nowrap col-low">
                      <Time iso={new Date(g.firstSeen).toISOString()} short />
                    </td>
                    <td class="nowrap">
                      <Time iso={new Date(g.lastSeen).toISOString()} short />
                    </td>
                    <td class="nowrap col-low">
                      <a href={`/requests/${g.exampleId}`}>Latest call</a>
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        </>
      )}
    </>
  );
}
