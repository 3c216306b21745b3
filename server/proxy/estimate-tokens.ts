// Token estimates for calls where upstream gave no usage (stream cut off, client gone, backend
// ignoring stream_options). Uses the real Llama 3 BPE tokenizer: Nscale's catalogue is mostly
// Llama-family models, and for others it is still far closer than a characters/4 guess.
// Loaded lazily: the vocabulary is ~10 MB and most calls never need it.
type Encoder = { encode(text: string, options?: { bos?: boolean; eos?: boolean }): number[] };
let encoder: Promise<Encoder> | null = null;

function loadEncoder(): Promise<Encoder> {
  return (encoder ??= import("llama3-tokenizer-js").then((m) => m.default as Encoder));
}

// Llama 3 chat template: <|begin_of_text|>, per message <|start_header_id|>role<|end_header_id|>\n\n
// … <|eot_id|> (≈ 5 tokens with the role), and the assistant header that starts the reply (4).
const PER_MESSAGE = 5;
const PROMPT_OVERHEAD = 1 + 4;

export async function countTokens(text: string): Promise<number> {
  if (text === "") return 0;
  return (await loadEncoder()).encode(text, { bos: false, eos: false }).length;
}

export async function estimatePromptTokens(messages: unknown): Promise<number | null> {
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
