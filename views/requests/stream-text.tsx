import { reassembleStream } from "../../server/requests/stream-text.ts";

/**
 * Above a streamed response's raw events: the text the caller read, put back together, and the
 * error event the stream ended with. Wrapped, since one answer is one long line of prose.
 */
export function StreamTextBlock({ body }: { body: string | null }) {
  if (body === null) return null;
  const stream = reassembleStream(body);
  if (!stream) return null;
  const texts = stream.choices.length > 0 ? stream.choices : [""];
  return (
    <section class="body-block stream-text">
      <h3>
        Response text <small class="muted">reassembled from {stream.events} events</small>
      </h3>
      {stream.reasoning !== "" ? (
        <>
          <h4>Reasoning</h4>
          <pre class="body wrap">
            <code>{stream.reasoning}</code>
          </pre>
        </>
      ) : null}
      {texts.map((text, i) => (
        <>
          {texts.length > 1 ? <h4>Choice {i}</h4> : null}
          {text === "" ? (
            <p class="muted">No text before the stream ended.</p>
          ) : (
            <pre class="body wrap">
              <code>{text}</code>
            </pre>
          )}
        </>
      ))}
      {stream.error ? (
        <p class="notice err" role="alert">
          <strong>Stream ended with an error event{stream.error.type ? ` (${stream.error.type}${stream.error.code ? `, ${stream.error.code}` : ""})` : ""}:</strong>{" "}
          {stream.error.message}
        </p>
      ) : null}
    </section>
  );
}
