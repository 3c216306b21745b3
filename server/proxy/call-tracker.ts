import type { Config } from "../config.ts";
import type { ShutdownState } from "../draining.ts";
import type { JournaledRecorder, StartRef } from "../recorder/journaled-recorder.ts";
import type { CallRecord } from "../recorder/recorder.ts";
import { capBody, scrubSecrets } from "../recorder/scrub.ts";
import type { Attribution } from "./attribution.ts";
import type { CallerSecrets } from "./caller-credentials.ts";
import type { Usage } from "./usage.ts";
import { newRequestId } from "./request-id.ts";
import type { CallTelemetry } from "../observability/call-telemetry.ts";
import type { CallSpan } from "../observability/tracing.ts";

/** What the request line and headers say about a call, complete before the tracker exists. */
export interface CallStart {
  readonly endpoint: string;
  readonly createdAt: number;
  readonly keyId: string | null;
  readonly attribution: Readonly<Attribution>;
  /** What the caller authenticated with: scrubbed from everything this call stores. */
  readonly secrets: CallerSecrets;
}

export interface CallOutcome {
  status: number;
  errorType?: string | null;
  errorMessage?: string | null;
  usage?: Usage | null;
  usageSource?: "upstream" | "estimated" | "none";
  ttftMs?: number | null;
  upstreamRequestId?: string | null;
  responseBody?: string | null;
  /** The model upstream says answered (for the span). */
  responseModel?: string | null;
  /** The completion text, read only if a span captures content. */
  outputText?: () => string;
}

/**
 * One call's record in the making. Whatever path a call takes (rejected, upstream error,
 * streamed, aborted), `finish` runs once and hands exactly one row to the recorder
 * (every call is recorded); a second finish is ignored. Its start is journaled when it is
 * forwarded, so a process that dies mid-call still leaves an (interrupted) row.
 */
export class CallTracker {
  readonly requestId: string;
  private readonly started = performance.now();
  private done = false;
  private startRef: StartRef | null = null;
  // Learnt as the call goes on (body read, then forwarded): a call refused before stays without.
  private model: string | null = null;
  private stream = false;
  /** Runs once the call's row is handed to the recorder, with its usage (spend control settles here). */
  onFinish: ((usage: Usage | null) => void) | null = null;
  /** Raw request bytes; decoded only if this call's bodies are stored. */
  private requestBody: Uint8Array | null = null;

  constructor(
    private readonly recorder: Pick<JournaledRecorder, "beginCall" | "endCall" | "forwarding">,
    private readonly config: Pick<Config, "LOG_BODIES" | "BODY_CAP_BYTES">,
    readonly start: CallStart,
    private readonly shutdown: ShutdownState,
    private readonly telemetry: CallTelemetry | null = null,
    /** This call's OTel span (null without OTel): the parent of the upstream request. */
    readonly span: CallSpan | null = null,
  ) {
    this.requestId = newRequestId(start.createdAt);
    recorder.beginCall();
  }

  /** Milliseconds since the call arrived, for ttft. */
  elapsed(at = performance.now()): number {
    return Math.max(0, Math.round(at - this.started));
  }

  get finished(): boolean {
    return this.done;
  }

  /** `text` without the caller's credentials or anything that looks like a credential. */
  scrub(text: string): string {
    return scrubSecrets(text, this.start.secrets.all);
  }

  /** The caller's body has been read (whether or not it turns out to be valid). */
  received(body: Uint8Array | null): void {
    this.requestBody = body;
  }

  /** The model asked for, on a call refused before it was forwarded (a priced model then costs 0, not unpriced). */
  refusedFor(model: string | null): void {
    this.model = model;
  }

  /** The call is about to go upstream, for `model` (from the JSON body), streamed or not. */
  forwarding(call: { model: string | null; stream: boolean }): void {
    this.model = call.model;
    this.stream = call.stream;
    const { start } = this;
    this.startRef = this.recorder.forwarding({
      requestId: this.requestId,
      createdAt: start.createdAt,
      // Scrubbed like the finished row: the journal is on disk too.
      model: withoutKnown(this.model, start.secrets.all),
      endpoint: withoutKnown(start.endpoint, start.secrets.all)!,
      stream: this.stream,
      keyId: start.keyId,
      team: start.attribution.team,
      project: start.attribution.project,
      user: start.attribution.user,
    });
  }

  finish(ended: CallOutcome): void {
    if (this.done) return;
    this.done = true;
    const outcome = ended.status === 499 && this.shutdown.cuttingOff ? cutByShutdown(ended) : ended;
    const failed = outcome.status >= 400 || !!outcome.errorType;
    const usage = outcome.usage ?? null;
    const known = this.start.secrets.all;
    const call: CallRecord["call"] = {
      requestId: this.requestId,
      createdAt: this.start.createdAt,
      // Short fields come from the caller or upstream too: a key pasted as the model name or
      // into the path must not be stored either (only the exact values: patterns cost per call).
      model: withoutKnown(this.model, known),
      endpoint: withoutKnown(this.start.endpoint, known)!,
      stream: this.stream,
      status: outcome.status,
      // Upstream's error `type` is free text too, so it gets the same treatment as the message.
      errorType: outcome.errorType ? capBody(this.scrub(outcome.errorType), 256).text : null,
      errorMessage: outcome.errorMessage ? capBody(this.scrub(outcome.errorMessage), 4096).text : null,
      promptTokens: usage?.promptTokens ?? null,
      completionTokens: usage?.completionTokens ?? null,
      totalTokens: usage?.totalTokens ?? null,
      usageSource: usage ? (outcome.usageSource ?? "upstream") : "none",
      durationMs: this.elapsed(),
      ttftMs: outcome.ttftMs ?? null,
      keyId: this.start.keyId,
      team: this.start.attribution.team,
      project: this.start.attribution.project,
      user: this.start.attribution.user,
      upstreamRequestId: withoutKnown(outcome.upstreamRequestId ?? null, known),
    };
    this.recorder.endCall({ call, bodies: this.bodiesFor(failed, outcome.responseBody ?? null) }, this.startRef);
    this.telemetry?.finished(call);
    this.onFinish?.(usage);
    // Only with OTel: the response facts (a scrub of upstream's model name) are for the span alone.
    this.span?.end(call, { model: withoutKnown(outcome.responseModel ?? null, known), outputText: outcome.outputText ?? null, secrets: known });
  }

  private bodiesFor(failed: boolean, response: string | null) {
    const mode = this.config.LOG_BODIES;
    if (mode === "none" || (mode === "errors" && !failed)) return undefined;
    if (this.requestBody === null && response === null) return undefined;
    const cap = this.config.BODY_CAP_BYTES;
    const known = this.start.secrets.all;
    const req = this.requestBody === null ? null : storableBody(Buffer.from(this.requestBody).toString("utf8"), cap, known);
    const res = response === null ? null : storableBody(response, cap, known);
    return { request: req?.text ?? null, response: res?.text ?? null, truncated: !!(req?.truncated || res?.truncated) };
  }
}

/**
 * Every way a call can lose its caller (request body cut, upstream aborted before or during the
 * answer, stream cut) ends as 499 client_closed_request. When the socket was destroyed by
 * tollbooth itself, at the end of the shutdown grace period, the caller closed nothing: the row
 * says so, keeping what was known (tokens seen so far, upstream id).
 */
function cutByShutdown(outcome: CallOutcome): CallOutcome {
  return { ...outcome, status: 503, errorType: "shutdown_aborted", errorMessage: "tollbooth shut down before the call finished (SHUTDOWN_GRACE_MS was over)" };
}

/** Scrub then cap; a huge body is cut first (with slack for a secret straddling the cut). */
function storableBody(text: string, cap: number, known: readonly string[]): { text: string; truncated: boolean } {
  const pre = capBody(text, cap + 1024);
  const capped = capBody(scrubSecrets(pre.text, known), cap);
  return { text: capped.text, truncated: pre.truncated || capped.truncated };
}

function withoutKnown(text: string | null, known: readonly string[]): string | null {
  if (text === null) return null;
  let out = text;
  for (const value of known) if (out.includes(value)) out = out.replaceAll(value, "[redacted]");
  return out;
}
