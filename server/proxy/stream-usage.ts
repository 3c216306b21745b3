import { estimateUsage } from "./estimate-tokens.ts";
import type { SseTap } from "./sse-tap.ts";
import type { Usage } from "./usage.ts";

// The usage a streamed call is recorded with: upstream's usage chunk when it sent one; none when
// the stream's only answer was an error event before any output (nothing was generated, upstream
// reported no usage, and nothing shows that Nscale bills the prompt of such a call: docs/nscale.md,
// "Errors inside a stream"); otherwise an estimate from the prompt and the text streamed.

export async function streamUsage(
  tap: SseTap,
  requestJson: Record<string, unknown> | null,
): Promise<{ usage: Usage | null; usageSource: "upstream" | "estimated" | "none" }> {
  if (tap.usage) return { usage: tap.usage, usageSource: "upstream" };
  if (tap.error && tap.firstTokenAt === null) return { usage: null, usageSource: "none" };
  return { usage: await estimateUsage(requestJson, tap.completionText(), tap.droppedChars), usageSource: "estimated" };
}
