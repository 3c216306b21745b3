// Provider error messages and bodies sometimes echo credentials (a URL with ?key=, a bearer
// token, an sk-… key: LiteLLM #30736, #31620). Everything stored passes through here first.
//
// Secrets turn up as plain text, inside JSON (where a `/` may be written `\/`), and inside JSON
// that was itself put in a JSON string (quotes written `\"`, or `\\\"` one level further down),
// so the patterns accept any run of backslashes before a quote and `\/` inside a token.

/** One character of a token as it appears in text or JSON: base64/base64url/key characters, or `\/`. */
const TOKEN = String.raw`(?:[A-Za-z0-9._~+/=-]|\\/)`;
/** A credential value after a field name: up to the next quote, space or separator. */
const VALUE = String.raw`(?:\\/|[^\s"'\\,;&<>{}\[\]])+`;
/** Field and header names whose value is a secret (`api_key`, `x-api-key`, `access_token`, …). */
const SECRET_NAME = "(?:x-)?api[_-]?key|x-goog-api-key|(?:access|refresh|id|auth|session)[_-]?token|client[_-]?secret|secret[_-]?key|private[_-]?key|password|passwd|(?:proxy-)?authorization";
const SCHEME = String.raw`(?:Bearer|Basic|Token|Digest)\s+`;

const PATTERNS: Array<[RegExp, string]> = [
  // `"api_key": "…"`, `\"api_key\":\"…\"`, `x-api-key: …`, `Authorization: Basic …`, `access_token=…`:
  // the name, separator and any auth scheme stay, the value goes.
  [new RegExp(String.raw`(?<![A-Za-z0-9_-])((?:${SECRET_NAME})\\*["']?\s*[:=]\s*\\*["']?(?:${SCHEME})?)${VALUE}`, "gi"), "$1[redacted]"],
  // Query parameters whose name ends in key/token/secret/…: ?key=, &sig=, ?page_token= …
  [/([?&](?:[A-Za-z0-9_.-]*?(?:key|token|secret|signature|sig|password|credential))=)(?:\\\/|[^&\s"'\\<>])+/gi, "$1[redacted]"],
  [new RegExp(String.raw`\bBearer\s+${TOKEN}{6,}`, "gi"), "Bearer [redacted]"],
  // Basic credentials outside a header line: only base64-looking values (a digit, + / =, or a
  // lower-to-upper case change), so "Basic questions" stays readable.
  // (Case-sensitive: the case change must be a real one.)
  [new RegExp(String.raw`\b([Bb]asic|BASIC)\s+(?=${TOKEN}*?(?:[0-9+/=]|[a-z][A-Z]))${TOKEN}{8,}`, "g"), "$1 [redacted]"],
  [new RegExp(String.raw`\b(sk|pk|rk|nsk)[-_]${TOKEN}{8,}`, "g"), "$1-[redacted]"],
];

/**
 * Remove credentials from `text`: first the exact `known` values (the caller's own key in every
 * form it may have been written in, see credentialForms), then anything that looks like one.
 */
export function scrubSecrets(text: string, known: readonly string[] = []): string {
  let out = text;
  for (const value of known) if (out.includes(value)) out = out.replaceAll(value, "[redacted]");
  for (const [re, replacement] of PATTERNS) out = out.replace(re, replacement);
  return out;
}

/** Shorter values are not scrubbed literally: they would cut ordinary words out of bodies. */
export const MIN_LITERAL_SECRET = 8;
const PLAIN = /^[A-Za-z0-9._~-]*$/;

/**
 * Every form in which a credential can be echoed: as sent, JSON-escaped (and with `/` as `\/`),
 * JSON-escaped twice (a JSON document inside a JSON string), and percent-encoded; longest first
 * so a longer form is replaced before a shorter one inside it. Too-short values are left out.
 */
export function credentialForms(values: ReadonlyArray<string | null | undefined>): string[] {
  const forms = new Set<string>();
  for (const value of values) {
    if (!value || value.length < MIN_LITERAL_SECRET) continue;
    forms.add(value);
    if (PLAIN.test(value)) continue; // the usual key: every form is the value itself
    forms.add(encodeURIComponent(value));
    let level = [value];
    for (let depth = 0; depth < 2; depth++) {
      level = level.flatMap((v) => {
        const escaped = JSON.stringify(v).slice(1, -1);
        return [escaped, escaped.replaceAll("/", "\\/")];
      });
      for (const form of level) forms.add(form);
    }
  }
  return [...forms].sort((a, b) => b.length - a.length);
}

/** Cap a stored body at `capBytes` of UTF-8, reporting whether anything was cut. */
export function capBody(text: string, capBytes: number): { text: string; truncated: boolean } {
  if (text.length * 3 <= capBytes) return { text, truncated: false }; // fast path: cannot exceed
  const buf = Buffer.from(text, "utf8");
  if (buf.length <= capBytes) return { text, truncated: false };
  // toString drops a partial trailing code point as U+FFFD; strip it so the cut stays clean.
  return { text: buf.subarray(0, capBytes).toString("utf8").replace(/\uFFFD$/, ""), truncated: true };
}
