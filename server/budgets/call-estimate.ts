// The most a call can use, known before it is forwarded: an upper bound on its prompt tokens and
// its output allowance. Counting the prompt with the real tokenizer costs far more than the 0.2 ms
// the whole spend check may add per call, so the prompt is bounded instead: Llama 3's tokenizer
// (byte-level BPE) never makes more tokens than a text has UTF-8 bytes, plus the chat template's
// tokens per message. The bound overshoots English text about 4×, which makes a hard budget
// refuse a little early, never late.

const PER_MESSAGE = 8;
const PROMPT_OVERHEAD = 16;

export interface CallEstimate {
  promptTokens: number;
  outputTokens: number;
}

export function estimateCall(json: Record<string, unknown> | null, bodyBytes: number, outputCap: number): CallEstimate {
  return { promptTokens: promptBound(json, bodyBytes), outputTokens: outputAllowance(json, outputCap) };
}

function promptBound(json: Record<string, unknown> | null, bodyBytes: number): number {
  const messages = json?.messages;
  if (!Array.isArray(messages)) return bodyBytes; // /completions, /embeddings, anything else: every byte a token at most
  let total = PROMPT_OVERHEAD;
  for (const m of messages) {
    const content = (m as { content?: unknown } | null)?.content;
    // Strings are counted as they are; parts, tool calls and the rest by their JSON text.
    total += PER_MESSAGE + (typeof content === "string" ? Buffer.byteLength(content) : Buffer.byteLength(JSON.stringify(m ?? null)));
  }
  for (const extra of ["tools", "functions", "response_format"]) {
    if (json?.[extra] !== undefined) total += Buffer.byteLength(JSON.stringify(json[extra]));
  }
  return total;
}

function outputAllowance(json: Record<string, unknown> | null, cap: number): number {
  const asked = json?.max_completion_tokens ?? json?.max_tokens;
  const n = typeof asked === "number" && Number.isSafeInteger(asked) && asked > 0 ? asked : cap;
  const choices = typeof json?.n === "number" && Number.isSafeInteger(json.n) && json.n > 1 ? json.n : 1;
  return n * choices;
}
