import type { RequestDetail } from "../../server/requests/query.ts";
import { Named, StatusBadge, Time } from "../components/bits.tsx";
import { BodyBlock } from "./body-block.tsx";
import { StreamTextBlock } from "./stream-text.tsx";
import { formatCount, formatMs, formatUsd } from "../../server/format.ts";

function filterLink(name: string, value: string | null, label: string) {
  if (!value) return null;
  return (
    <li>
      <a href={`/requests?${new URLSearchParams({ [name]: value })}`}>{label}</a>
    </li>
  );
}

export function RequestDetailPage({ call, curl }: { call: RequestDetail; curl: string }) {
  const failed = call.status >= 400 || call.error_type !== null;
  return (
    <>
      <nav aria-label="breadcrumb">
        <ul>
          <li>
            <a href={failed ? "/requests/failed" : "/requests"}>{failed ? "Failures" : "Requests"}</a>
          </li>
          <li>Call {call.id}</li>
        </ul>
      </nav>
      <hgroup>
        <h1>
          <StatusBadge status={call.status} errorType={call.error_type} /> {call.endpoint}
        </h1>
        <p>
          <Time iso={call.created_at} /> · <Named name={call.model} kind="model" empty="no model" />
        </p>
      </hgroup>
      {call.error_message ? (
        <p class="notice err" role="alert">
          <strong>{call.error_type ?? "error"}:</strong> {call.error_message}
        </p>
      ) : null}
      <div class="grid detail-grid">
        <article>
          <h3>Call</h3>
          <dl class="fields">
            <dt>Request id</dt>
            <dd>
              <code>{call.request_id}</code>
            </dd>
            <dt>Upstream request id</dt>
            <dd>{call.upstream_request_id ? <code>{call.upstream_request_id}</code> : <span class="muted">–</span>}</dd>
            <dt>Status</dt>
            <dd>
              {call.status}
              {call.error_type ? ` (${call.error_type})` : ""}
            </dd>
            <dt>Stream</dt>
            <dd>{call.stream ? "yes (SSE)" : "no"}</dd>
            <dt>Key</dt>
            <dd>{call.key_id ? <code>{call.key_id}</code> : <span class="muted">–</span>}</dd>
            <dt>Team</dt>
            <dd>
              <Named name={call.team} kind="team" />
            </dd>
            <dt>Project</dt>
            <dd>
              <Named name={call.project} kind="project" />
            </dd>
            <dt>User</dt>
            <dd>
              <Named name={call.user} kind="user" />
            </dd>
          </dl>
        </article>
        <article>
          <h3>Timing, tokens and cost</h3>
          <dl class="fields">
            <dt>Duration</dt>
            <dd>{formatMs(call.duration_ms)}</dd>
            <dt>Time to first token</dt>
            <dd>{formatMs(call.ttft_ms)}</dd>
            <dt>Prompt tokens</dt>
            <dd>{call.prompt_tokens === null ? "–" : formatCount(call.prompt_tokens)}</dd>
            <dt>Completion tokens</dt>
            <dd>{call.completion_tokens === null ? "–" : formatCount(call.completion_tokens)}</dd>
            <dt>Usage source</dt>
            <dd>{call.usage_source}</dd>
            <dt>Cost</dt>
            <dd>
              {call.cost_usd !== null ? (
                <span title={`${call.cost_usd} USD`}>{formatUsd(call.cost_usd)}</span>
              ) : call.model ? (
                <span class="badge warn">unpriced</span>
              ) : (
                "–"
              )}
            </dd>
          </dl>
          <h4>Other calls</h4>
          <ul class="links-list">
            {filterLink("key", call.key_id, "Same key")}
            {filterLink("model", call.model, "Same model")}
            {filterLink("team", call.team, "Same team")}
            {call.model && call.key_id ? (
              <li>
                <a href={`/requests?${new URLSearchParams({ key: call.key_id, model: call.model })}`}>Same key and model</a>
              </li>
            ) : null}
          </ul>
        </article>
      </div>
      <BodyBlock title="Request body" body={call.request_body} truncated={call.bodies_truncated} />
      {call.stream ? <StreamTextBlock body={call.response_body} /> : null}
      <BodyBlock title={call.stream ? "Response events (raw SSE)" : "Response body"} body={call.response_body} truncated={call.bodies_truncated} wrap={call.stream} />
      <section class="body-block">
        <h3>
          Replay with curl
          <button type="button" class="secondary outline small" data-copy="#curl-command">
            Copy as curl
          </button>
        </h3>
        <pre class="body">
          <code id="curl-command">{curl}</code>
        </pre>
        <p class="muted">Uses $NSCALE_API_KEY: tollbooth never stores the caller's key.</p>
      </section>
    </>
  );
}
