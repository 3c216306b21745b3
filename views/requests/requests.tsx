import type { BoundedRequestPage, RequestRow } from "../../server/requests/query.ts";
import { KeyId, Named, StatusBadge, Time } from "../components/bits.tsx";
import { usePageTimeZone } from "../components/time-zone.ts";
import { FirstCallHint } from "../usage/first-call-hint.tsx";
import { SelectField } from "../components/select-field.tsx";
import { formatMs, formatTokens } from "../../server/format.ts";
import { Usd } from "../components/usd.tsx";
import type { ExplorerQuery } from "../../server/requests/explorer-query.ts";

/** The explorer's form values as the URL has them (strings, "" = not set). */
export const RANGE_OPTIONS: Array<[string, string]> = [
  ["", "All time"],
  ["1h", "Last hour"],
  ["24h", "Last 24 hours"],
  ["7d", "Last 7 days"],
  ["30d", "Last 30 days"],
];

const STATUS_OPTIONS: Array<[string, string]> = [
  ["", "Any status"],
  ["ok", "Successful"],
  ["error", "Failed (any)"],
  ["400", "400 bad request"],
  ["401", "401 unauthorized"],
  ["403", "403 forbidden"],
  ["404", "404 model not found"],
  ["429", "429 out of credit"],
  ["499", "499 client gone"],
  ["500", "500 server error"],
  ["502", "502 upstream unreachable"],
  ["503", "503 unavailable"],
  ["504", "504 upstream timeout"],
];

export interface ExplorerProps {
  query: ExplorerQuery;
  page: BoundedRequestPage;
  /** The query string of the current filters (no cursor), for "load more". */
  queryString: string;
  error: string | null;
  origin: string;
  /** Recorded models, offered as the model filter's suggestions. */
  models: string[];
  /** True when no filter is set: an empty result then means "no calls at all". */
  unfiltered: boolean;
}

function Field({ name, value, placeholder, type = "search" }: { name: string; value: string; placeholder: string; type?: string }) {
  return (
    <label>
      <span class="sr-only">{placeholder}</span>
      <input type={type} name={name} value={value} placeholder={placeholder} aria-label={placeholder} />
    </label>
  );
}

function ExplorerFilters({ query, models }: { query: ExplorerQuery; models: string[] }) {
  const tz = usePageTimeZone();
  const more = query.project !== "" || query.user !== "" || query.error_type !== "" || query.from !== "" || query.to !== "";
  return (
    // hx-sync "queue last": a change and an Enter-submit in quick succession run one after the
    // other (the newest state wins) instead of aborting each other mid-flight.
    <form
      id="filters"
      class="filters"
      method="get"
      action="/requests"
      hx-get="/requests"
      hx-target="#results"
      hx-push-url="true"
      hx-trigger="change, submit"
      hx-sync="this:queue last"
    >
      <div class="filter-row">
        <SelectField name="status" value={query.status} options={STATUS_OPTIONS} label="Status" hideLabel />
        <SelectField name="range" value={query.range} options={RANGE_OPTIONS} label="Time range" hideLabel />
        <label>
          <span class="sr-only">Model (or part of its name)</span>
          <input type="text" name="model" value={query.model} placeholder="Model" aria-label="Model (or part of its name)" list="known-models" autocomplete="off" />
          <datalist id="known-models">
            {models.map((m) => (
              <option value={m} />
            ))}
          </datalist>
        </label>
        <Field name="team" value={query.team} placeholder="Team" type="text" />
        <Field name="key" value={query.key} placeholder="Key fingerprint" type="text" />
        <Field name="q" value={query.q} placeholder="Search error messages" />
      </div>
      <details open={more}>
        <summary>More filters</summary>
        <div class="filter-row">
          <Field name="project" value={query.project} placeholder="Project" type="text" />
          <Field name="user" value={query.user} placeholder="User" type="text" />
          <Field name="error_type" value={query.error_type} placeholder="Error type (none = without one)" type="text" />
          <label>
            From (day in {tz})
            <input type="date" name="from" value={query.from} />
          </label>
          <label>
            To (day in {tz}, inclusive)
            <input type="date" name="to" value={query.to} />
          </label>
        </div>
      </details>
      <div class="filter-actions">
        <button type="submit">Apply</button>
        {/* biome-ignore lint/a11y/useSemanticElements: a link that navigates, drawn as a button by Pico's [role=button] */}
        <a href="/requests" role="button" class="secondary outline">
          Reset
        </a>
      </div>
    </form>
  );
}

// One call's cost: micro-dollar precision for every row, so rows added by "load more" line up
// with the first page; the exact amount is in the tooltip.
const CALL_COST_DIGITS = 6;

export function RequestRows({ rows }: { rows: RequestRow[] }) {
  return (
    <>
      {rows.map((r) => (
        <tr>
          <td class="nowrap">
            <a href={`/requests/${r.id}`}>
              <Time iso={r.created_at} />
            </a>
          </td>
          <td title={r.error_message ?? undefined}>
            <StatusBadge status={r.status} errorType={r.error_type} />
          </td>
          <td>
            <Named name={r.model} kind="model" />
            {r.error_message ? <div class="err-msg">{r.error_message}</div> : null}
          </td>
          <td class="col-low">
            <Named name={r.team} kind="team" />
          </td>
          <td class="col-low">
            <KeyId keyId={r.key_id} />
          </td>
          <td class="num nowrap col-low" title={`usage: ${r.usage_source}`}>
            {r.usage_source === "estimated" ? "~" : ""}
            {formatTokens(r.prompt_tokens)} → {formatTokens(r.completion_tokens)}
          </td>
          <td class="num nowrap col-low">
            {formatMs(r.duration_ms)}
            {r.ttft_ms !== null ? <small class="muted sub-line">ttft {formatMs(r.ttft_ms)}</small> : null}
          </td>
          <td class="num nowrap">{r.cost_usd !== null ? <Usd usd={r.cost_usd} digits={CALL_COST_DIGITS} /> : r.model ? <span class="badge warn">unpriced</span> : "–"}</td>
        </tr>
      ))}
    </>
  );
}

function nextPageHref(queryString: string, cursor: string): string {
  return `/requests?${queryString}${queryString ? "&" : ""}cursor=${encodeURIComponent(cursor)}`;
}

/**
 * The "load more" row; replaced by the next rows and a new button (or nothing at the end). After
 * a page whose search stopped at its budget, it says how far back the search got.
 */
export function LoadMore({ queryString, cursor, searchedBackTo = null }: { queryString: string; cursor: string | null; searchedBackTo?: string | null }) {
  if (!cursor) return null;
  const href = nextPageHref(queryString, cursor);
  return (
    <tr id="load-more">
      <td colspan={8}>
        {/* biome-ignore lint/a11y/useSemanticElements: a link that navigates, drawn as a button by Pico's [role=button] */}
        <a href={href} role="button" class="secondary outline" hx-get={href} hx-target="#load-more" hx-swap="outerHTML">
          {searchedBackTo ? "Search further back" : "Load more"}
        </a>
        {searchedBackTo ? <SearchedBackTo iso={searchedBackTo} /> : null}
      </td>
    </tr>
  );
}

function SearchedBackTo({ iso }: { iso: string }) {
  return (
    <small class="muted">
      {" "}
      Searched back to <Time iso={iso} /> (a page checks a bounded number of calls, so it stays fast).
    </small>
  );
}

export function ExplorerResults({ page, queryString, error, origin, unfiltered }: Omit<ExplorerProps, "query" | "models">) {
  if (error) return <p class="notice err" role="alert">{error}</p>;
  if (page.data.length === 0) {
    if (unfiltered) return <FirstCallHint origin={origin} />;
    if (page.searched_back_to && page.next_cursor) {
      return (
        <p class="empty">
          No matching calls so far.
          <SearchedBackTo iso={page.searched_back_to} />{" "}
          {/* biome-ignore lint/a11y/useSemanticElements: a link that navigates, drawn as a button by Pico's [role=button] */}
          <a href={nextPageHref(queryString, page.next_cursor)} role="button" class="secondary outline">
            Search further back
          </a>
        </p>
      );
    }
    return (
      <p class="empty">
        No calls match these filters. <a href="/requests">Clear the filters</a>
      </p>
    );
  }
  return (
    <div class="table-scroll">
      <table class="striped requests">
        <thead>
          <tr>
            <th>
              Time <small class="muted">({usePageTimeZone()})</small>
            </th>
            <th>Status</th>
            <th>Model</th>
            <th class="col-low">Team</th>
            <th class="col-low">Key</th>
            <th class="num col-low" title="prompt → completion tokens; ~ = estimated">Tokens</th>
            <th class="num col-low">Latency</th>
            <th class="num">Cost</th>
          </tr>
        </thead>
        <tbody id="request-rows">
          <RequestRows rows={page.data} />
          <LoadMore queryString={queryString} cursor={page.next_cursor} searchedBackTo={page.searched_back_to} />
        </tbody>
      </table>
    </div>
  );
}

export function ExplorerPage(props: ExplorerProps) {
  return (
    <>
      <hgroup>
        <h1>Requests</h1>
        <p>
          Every call that reached the proxy, newest first. Times and dates in <strong>{usePageTimeZone()}</strong>.
        </p>
      </hgroup>
      <ExplorerFilters query={props.query} models={props.models} />
      <section id="results" aria-live="polite">
        <ExplorerResults {...props} />
      </section>
    </>
  );
}
