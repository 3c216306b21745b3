// A stored streamed response body is the raw SSE as upstream sent it: hundreds of `data:` lines of
// one token each. The call detail page shows what the caller actually read: the text of each
// choice put back together, and the error event a stream ended with, if any.

export interface StreamText {
  /** The reassembled text of each choice, by choice index (chat `delta.content` or completions `text`). */
  choices: string[];
  /** Reasoning text (`delta.reasoning_content`), when the model sent any. */
  reasoning: string;
  /** The `error` object of the stream's error event, as sent (message, type, code). */
  error: { message: string; type: string | null; code: string | null } | null;
  /** Data events seen (including [DONE]). */
  events: number;
}

function record(v: unknown): Record<string, unknown> | null {
  return typeof v === "object" && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : null;
}

const str = (v: unknown): string | null => (typeof v === "string" ? v : typeof v === "number" ? String(v) : null);

/**
 * The text of an SSE body, or null when the body is not SSE (no `data:` line at all). A body cut
 * by the size limit ends mid-event: that last event is skipped, the rest still reads.
 */
export function reassembleStream(body: string): StreamText | null {
  // Events are separated by a blank line; one event's data lines join with "\n" (the SSE spec).
  const events = body.split(/\r\n\r\n|\n\n|\r\r/);
  const out: StreamText = { choices: [], reasoning: "", error: null, events: 0 };
  for (const event of events) {
    const data = event
      .split(/\r\n|\n|\r/)
      .filter((line) => line.startsWith("data:"))
      .map((line) => line.slice(5).replace(/^ /, ""));
    if (data.length === 0) continue;
    out.events++;
    let json: unknown;
    try {
      json = JSON.parse(data.join("\n"));
    } catch {
      continue; // [DONE], or the event the size limit cut in two
    }
    const obj = record(json);
    if (!obj) continue;
    const error = record(obj.error);
    if (error) {
      out.error = { message: str(error.message) ?? JSON.stringify(error), type: str(error.type), code: str(error.code) };
      continue;
    }
    if (!Array.isArray(obj.choices)) continue;
    for (const raw of obj.choices) {
      const choice = record(raw);
      if (!choice) continue;
      const index = typeof choice.index === "number" && Number.isInteger(choice.index) && choice.index >= 0 && choice.index < 128 ? choice.index : 0;
      const delta = record(choice.delta);
      const piece = str(delta?.content) ?? str(choice.text) ?? "";
      const reasoning = str(delta?.reasoning_content);
      if (reasoning) out.reasoning += reasoning;
      while (out.choices.length <= index) out.choices.push("");
      out.choices[index] += piece;
    }
  }
  return out.events === 0 ? null : out;
}
