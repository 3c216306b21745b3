import { createParser, type EventSourceParser } from "eventsource-parser";
import { parseErrorObject, parseUsage, type ErrorInfo, type Usage } from "./usage.ts";

// Completion text kept for token estimation when upstream sends no usage. Llama-class replies
// are far below this; past it the estimate scales by bytes seen (see completionChars).
const MAX_TEXT_CHARS = 1 << 20;
// A single SSE event larger than this is forwarded unparsed rather than held in memory.
const MAX_PENDING_CHARS = 1 << 20;

/**
 * Reads an upstream SSE stream as it passes through: usage, errors sent inside the stream,
 * completion text and the first-token time. Forwarding is byte-exact per event; the only change
 * is dropping the usage-only chunk (`choices: []` + `usage`) when the proxy asked for it on
 * the caller's behalf (docs/architecture.md, "The caller gets what upstream sent").
 */
export class SseTap {
  usage: Usage | null = null;
  error: ErrorInfo | null = null;
  upstreamId: string | null = null;
  /** The model named in the first chunk that names one (for the call's span). */
  upstreamModel: string | null = null;
  sawDone = false;
  firstTokenAt: number | null = null;
  private text: string[] = [];
  private textChars = 0;
  private extraChars = 0;
  private pending = "";
  /** UTF-8 bytes the decoder holds back (a character split across chunks). */
  private heldBytes = 0;
  private dropCurrent = false;
  private readonly decoder = new TextDecoder();
  private readonly encoder = new TextEncoder();
  private readonly parser: EventSourceParser;

  constructor(
    private readonly stripUsageChunk: boolean,
    private readonly now: () => number,
  ) {
    this.parser = createParser({ onEvent: (e) => this.onData(e.data) });
  }

  /** Feed upstream bytes; returns the bytes to send to the caller now. */
  push(chunk: Uint8Array): Uint8Array | null {
    const text = this.decoder.decode(chunk, { stream: true });
    if (!this.stripUsageChunk) {
      this.parser.feed(text);
      return chunk;
    }
    // Only needed to hand whole events back as they came (below), so only counted here.
    const heldBefore = this.heldBytes;
    this.heldBytes += chunk.byteLength - Buffer.byteLength(text, "utf8");
    // Invalid UTF-8 decodes to U+FFFD (more bytes than it had): stop trusting the count for good.
    if (this.heldBytes < 0) this.heldBytes = Number.NaN;
    // Event-at-a-time so a dropped event leaves no trace; events arrive whole in practice.
    const whole = this.pending === "" && heldBefore === 0;
    this.pending += text;
    const out: string[] = [];
    let dropped = false;
    for (;;) {
      const m = /\r\n\r\n|\n\n|\r\r/.exec(this.pending);
      if (!m) break;
      const end = m.index + m[0].length;
      const event = this.pending.slice(0, end);
      this.pending = this.pending.slice(end);
      this.dropCurrent = false;
      this.parser.feed(event);
      if (this.dropCurrent) dropped = true;
      else out.push(event);
    }
    // The usual case, whole events and none dropped: the caller gets upstream's own bytes (no
    // re-encoding per chunk).
    if (whole && this.pending === "" && this.heldBytes === 0 && !dropped) return chunk;
    if (this.pending.length > MAX_PENDING_CHARS) {
      this.parser.feed(this.pending);
      out.push(this.pending);
      this.pending = "";
    }
    return out.length ? this.encoder.encode(out.join("")) : null;
  }

  /** Whatever is left when upstream ends (an unterminated last event is passed on as is). */
  end(): Uint8Array | null {
    const rest = this.pending + this.decoder.decode();
    this.pending = "";
    if (rest === "") return null;
    this.parser.feed(rest + "\n\n");
    return this.encoder.encode(rest);
  }

  completionText(): string {
    return this.text.join("");
  }

  /** Characters of completion seen but not kept (beyond MAX_TEXT_CHARS). */
  get droppedChars(): number {
    return this.extraChars;
  }

  private onData(data: string): void {
    if (data === "[DONE]") {
      this.sawDone = true;
      return;
    }
    let json: unknown;
    try {
      json = JSON.parse(data);
    } catch {
      return; // not JSON: forwarded untouched, nothing to learn
    }
    if (typeof json !== "object" || json === null) return;
    const chunk = json as { id?: unknown; model?: unknown; usage?: unknown; choices?: unknown };
    const err = parseErrorObject(json);
    if (err) {
      this.error = err;
      return;
    }
    if (this.upstreamId === null && typeof chunk.id === "string") this.upstreamId = chunk.id;
    if (this.upstreamModel === null && typeof chunk.model === "string") this.upstreamModel = chunk.model;
    const usage = parseUsage(chunk.usage);
    if (usage) {
      this.usage = usage;
      if (this.stripUsageChunk && Array.isArray(chunk.choices) && chunk.choices.length === 0) this.dropCurrent = true;
    }
    if (Array.isArray(chunk.choices)) for (const choice of chunk.choices) this.takeDelta(choice);
  }

  private takeDelta(choice: unknown): void {
    const delta = (choice as { delta?: Record<string, unknown> } | null)?.delta;
    if (!delta) return;
    let piece = "";
    for (const field of ["content", "reasoning_content"] as const) {
      const v = delta[field];
      if (typeof v === "string") piece += v;
    }
    if (Array.isArray(delta.tool_calls)) piece += JSON.stringify(delta.tool_calls);
    if (piece === "") return;
    this.firstTokenAt ??= this.now();
    if (this.textChars + piece.length <= MAX_TEXT_CHARS) {
      this.text.push(piece);
      this.textChars += piece.length;
    } else {
      this.extraChars += piece.length;
    }
  }
}
