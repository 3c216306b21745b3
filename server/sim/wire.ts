import type { IncomingMessage, ServerResponse } from "node:http";
import { drained } from "../proxy/sse-pump.ts";

// The OpenAI/Nscale wire as a fake upstream speaks it: shared by the test double
// (test/fake-upstream.ts, scenarios chosen by request headers) and the demo's simulator
// (server/demo/nscale-simulator.ts, faults chosen at random). Server-side code, so it lives here
// rather than under test/: the demo ships with the product.

export interface Usage {
  prompt_tokens: number;
  completion_tokens: number;
  total_tokens: number;
}

/**
 * The error object both fakes put inside a stream: Nscale's error shape (docs/nscale.md, "Errors"),
 * with a message and code of our own (Nscale documents none for in-stream errors).
 */
export const STREAM_ERROR = { message: "model overloaded", type: "server_error", param: null, code: "overloaded" };

export function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

export function countWords(text: string): number {
  const t = text.trim();
  return t === "" ? 0 : t.split(/\s+/).length;
}

/** Text of a message `content`: a string, or the `text` parts of an array of content parts. */
function messageText(content: unknown): string {
  if (typeof content === "string") return content;
  if (!Array.isArray(content)) return "";
  return content.map((part: unknown) => (isRecord(part) && typeof part.text === "string" ? part.text : "")).join(" ");
}

/**
 * Deterministic usage (tests assert exact numbers): prompt_tokens = whitespace-separated words
 * over all message contents + 3 per message; completion_tokens = `completionTokens`.
 */
export function expectedUsage(body: unknown, completionTokens: number): Usage {
  const messages = isRecord(body) && Array.isArray(body.messages) ? body.messages : [];
  let prompt = 0;
  for (const m of messages) prompt += 3 + countWords(messageText(isRecord(m) ? m.content : undefined));
  return { prompt_tokens: prompt, completion_tokens: completionTokens, total_tokens: prompt + completionTokens };
}

/** Whether a chat request asked for the usage chunk (`stream_options.include_usage`). */
export function includeUsage(body: unknown): boolean {
  return isRecord(body) && isRecord(body.stream_options) && body.stream_options.include_usage === true;
}

export function readText(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const parts: Buffer[] = [];
    req.on("data", (b: Buffer) => parts.push(b));
    req.on("end", () => resolve(Buffer.concat(parts).toString("utf8")));
    req.on("error", reject);
  });
}

/**
 * Resolves true after `ms`, or false as soon as the response closes (client gone / server closed).
 * `ms` ≤ 0 still yields one event-loop turn, so an in-process reader sees SSE events one by one.
 */
export function sleepUnlessClosed(ms: number, res: ServerResponse): Promise<boolean> {
  if (res.destroyed) return Promise.resolve(false);
  if (ms <= 0) return new Promise((resolve) => setImmediate(() => resolve(!res.destroyed)));
  return new Promise<boolean>((resolve) => {
    const done = (ok: boolean) => {
      clearTimeout(timer);
      res.off("close", onClose);
      resolve(ok);
    };
    const onClose = () => done(false);
    const timer = setTimeout(() => done(!res.destroyed), ms);
    res.on("close", onClose);
  });
}

/** One SSE event per res.write (separate writes, as a real server flushes them). Honours backpressure. */
export async function writeEvent(res: ServerResponse, data: string): Promise<boolean> {
  if (res.destroyed) return false;
  if (!res.write(`data: ${data}\n\n`)) await drained(res);
  return !res.destroyed;
}
