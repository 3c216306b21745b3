// Provider error messages and bodies sometimes echo credentials (a URL with ?key=, a bearer
// token, an sk-… key: LiteLLM #30736, #31620). Everything stored passes through here first.
const PATTERNS: Array<[RegExp, string]> = [
  [/\bBearer\s+[A-Za-z0-9._~+/=-]{6,}/gi, "Bearer [redacted]"],
  [/\b(sk|pk|rk|nsk)[-_][A-Za-z0-9._-]{8,}/g, "$1-[redacted]"],
  [/([?&](?:api[_-]?)?key=)[^&\s"']+/gi, "$1[redacted]"],
  [/("(?:api[_-]?key|authorization|access[_-]?token)"\s*:\s*")[^"]*(")/gi, "$1[redacted]$2"],
];

export function scrubSecrets(text: string): string {
  let out = text;
  for (const [re, replacement] of PATTERNS) out = out.replace(re, replacement);
  return out;
}

/** Cap a stored body at `capBytes` of UTF-8, reporting whether anything was cut. */
export function capBody(text: string, capBytes: number): { text: string; truncated: boolean } {
  if (text.length * 3 <= capBytes) return { text, truncated: false }; // fast path: cannot exceed
  const buf = Buffer.from(text, "utf8");
  if (buf.length <= capBytes) return { text, truncated: false };
  // toString drops a partial trailing code point as U+FFFD; strip it so the cut stays clean.
  return { text: buf.subarray(0, capBytes).toString("utf8").replace(/\uFFFD$/, ""), truncated: true };
}
