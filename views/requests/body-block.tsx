/** JSON bodies indented for reading; anything else (SSE, text, cut-off JSON) as stored. */
function prettyBody(body: string): string {
  try {
    return JSON.stringify(JSON.parse(body), null, 2);
  } catch {
    return body;
  }
}

/** A stored body, escaped as text by JSX (a prompt full of HTML stays text); `wrap` for SSE, whose events are long single lines. */
export function BodyBlock({ title, body, truncated, wrap = false }: { title: string; body: string | null; truncated: boolean; wrap?: boolean }) {
  return (
    <section class="body-block">
      <h3>
        {title}
        {truncated ? <small class="badge warn">truncated</small> : null}
      </h3>
      {body === null ? (
        <p class="muted">Not stored. LOG_BODIES decides which bodies are kept (default: failed calls only).</p>
      ) : (
        <pre class={wrap ? "body wrap" : "body"}>
          <code>{prettyBody(body)}</code>
        </pre>
      )}
    </section>
  );
}
