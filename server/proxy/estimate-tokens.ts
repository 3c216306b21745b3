// Token estimates for calls where upstream gave no usage (stream cut off, client gone, backend
// ignoring stream_options). Uses the real Llama 3 BPE tokenizer: Nscale's catalogue is mostly
// Llama-family models, and for others it is still far closer than a characters/4 guess.
// Loaded lazily: the vocabulary is ~10 MB and most calls never need it.
import type { Usage } from "./usage.ts";

type Encoder = { encode(text: string, options?: { bos?: boolean; eos?: boolean }): number[] };
let encoder: Promise<Encoder> | null = null;

function loadEncoder(): Promise<Encoder> {
  return (encoder ??= import("llama3-tokenizer-js").then((m) => m.default as Encoder));
}

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
  const prompt = (await estimatePromptTokens(requestJson?.messages)) ?? (typeof requestJson?.prompt === "string" ? await countTokens(requestJson.prompt) : null);
  let completionTokens = await countTokens(completion);
  if (extraChars > 0 && completion.length > 0) completionTokens += Math.round((completionTokens / completion.length) * extraChars);
  return { promptTokens: prompt, completionTokens, totalTokens: prompt === null ? null : prompt + completionTokens };
}

async function countTokens(text: string): Promise<number> {
  if (text === "") return 0;
  return (await loadEncoder()).encode(text, { bos: false, eos: false }).length;
}

async function estimatePromptTokens(messages: unknown): Promise<number | null> {
  if (!Array.isArray(messages)) return null;
  let total = PROMPT_OVERHEAD;
  for (const m of messages) {
    total += PER_MESSAGE + (await countTokens(messageText(m)));
  }
  return total;
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
