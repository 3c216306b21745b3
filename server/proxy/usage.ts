/** Token counts as OpenAI-compatible APIs report them. */
export interface Usage {
  promptTokens: number | null;
  completionTokens: number | null;
  totalTokens: number | null;
}

const count = (v: unknown): number | null => (typeof v === "number" && Number.isInteger(v) && v >= 0 ? v : null);

/** Read a `usage` object (chat, completions, embeddings); null when absent or not usable. */
export function parseUsage(value: unknown): Usage | null {
  if (typeof value !== "object" || value === null) return null;
  const u = value as Record<string, unknown>;
  const prompt = count(u.prompt_tokens);
  const completion = count(u.completion_tokens);
  const total = count(u.total_tokens);
  if (prompt === null && completion === null && total === null) return null;
  return {
    promptTokens: prompt,
    // Embeddings report only prompt and total tokens: completion is then 0, not unknown.
    completionTokens: completion ?? (prompt !== null && total !== null ? total - prompt : null),
    totalTokens: total ?? (prompt !== null && completion !== null ? prompt + completion : null),
  };
}

export interface ErrorInfo {
  type: string;
  message: string;
}

/** Read an OpenAI/Nscale error object `{"error":{message,type,code}}` (code may be a number). */
export function parseErrorObject(value: unknown): ErrorInfo | null {
  if (typeof value !== "object" || value === null || !("error" in value)) return null;
  const e = (value as { error: unknown }).error;
  if (typeof e === "string") return { type: "upstream_error", message: e };
  if (typeof e !== "object" || e === null) return null;
  const o = e as Record<string, unknown>;
  const type = typeof o.type === "string" && o.type ? o.type : typeof o.code === "string" && o.code ? o.code : "upstream_error";
  const message = typeof o.message === "string" ? o.message : JSON.stringify(e);
  return { type, message };
}
