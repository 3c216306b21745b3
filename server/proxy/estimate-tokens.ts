// Token estimates for calls where upstream gave no usage (stream cut off, client gone, backend
// ignoring stream_options). Uses the real Llama 3 BPE tokenizer: Nscale's catalogue is mostly
// Llama-family models, and for others it is still far closer than a characters/4 guess.
// Counted on the tokenizer's own thread (token-counter.ts), never on the thread serving /v1.
import { countTokens } from "./token-counter.ts";
import type { Usage } from "./usage.ts";

// Llama 3 chat template: <|begin_of_text|>, per message <|start_header_id|>role<|end_header_id|>\n\n
// … <|eot_id|> (≈ 5 tokens with the role), and the assistant header that starts the reply (4).
const PER_MESSAGE = 5;
const PROMPT_OVERHEAD = 1 + 4;

/**
 * Usage for a call upstream gave none for: the prompt from the request's messages (or prompt),
 * the completion from the text the caller received. `extraChars` is reply text beyond the window
 * the SSE tap kept, counted at the kept window's rate.
 */
export async function estimateUsage(requestJson: Record<string, unknown> | null, completion: string, extraChars = 0): Promise<Usage> {
  const messages = Array.isArray(requestJson?.messages) ? requestJson.messages : null;
  const promptText = messages === null && typeof requestJson?.prompt === "string" ? requestJson.prompt : null;
  // One round trip: the completion first, then the prompt (its messages, or the legacy prompt).
  const [completionCount, ...promptCounts] = await countTokens([completion, ...(messages ?? []).map(messageText), ...(promptText === null ? [] : [promptText])]);
  let completionTokens = completionCount!;
  if (extraChars > 0 && completion.length > 0) completionTokens += Math.round((completionTokens / completion.length) * extraChars);
  const prompt =
    messages !== null
      ? promptCounts.reduce((total, n) => total + PER_MESSAGE + n, PROMPT_OVERHEAD)
      : promptText !== null
        ? promptCounts[0]!
        : null;
  return { promptTokens: prompt, completionTokens, totalTokens: prompt === null ? null : prompt + completionTokens };
}

function messageText(message: unknown): string {
  if (typeof message !== "object" || message === null) return "";
  const content = (message as { content?: unknown }).content;
  if (typeof content === "string") return content;
  if (Array.isArray(content)) {
    return content
      .map((part) => (typeof part === "object" && part !== null && typeof (part as { text?: unknown }).text === "string" ? (part as { text: string }).text : ""))
      .join("\n");
  }
  return "";
}
