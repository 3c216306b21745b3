import { ATTRIBUTION_HEADERS } from "../../server/proxy/attribution.ts";
import { headerName } from "../../server/requests/curl.ts";

/**
 * The empty state of every page: what to point a client at so the first call shows up here.
 * The key goes to Nscale as is (never stored); the team header is optional attribution.
 */
export function FirstCallHint({ origin }: { origin: string }) {
  const baseUrl = `${origin}/v1`;
  const curl = [
    `curl ${baseUrl}/chat/completions \\`,
    `  -H "Authorization: Bearer $NSCALE_API_KEY" \\`,
    `  -H "Content-Type: application/json" \\`,
    `  -H "${headerName(ATTRIBUTION_HEADERS.team)}: my-team" \\`,
    `  -d '{"model": "meta-llama/Llama-3.1-8B-Instruct", "messages": [{"role": "user", "content": "Hello"}]}'`,
  ].join("\n");
  return (
    <article class="empty-state">
      <h2>No calls recorded yet</h2>
      <p>
        Point any OpenAI-compatible client at <code>{baseUrl}</code> instead of Nscale's URL and keep your Nscale key. Every call
        then shows up here within a second.
      </p>
      <pre>
        <code id="first-call-curl">{curl}</code>
      </pre>
      <p class="muted">
        Optional headers <code>X-Tollbooth-Team</code>, <code>X-Tollbooth-Project</code> and <code>X-Tollbooth-User</code> attribute
        spend; tollbooth strips them before forwarding.
      </p>
    </article>
  );
}
