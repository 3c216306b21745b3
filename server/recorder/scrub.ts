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
  [new RegExp(String.raw`\bBearer\s+${TOKEN}{6,}`, "gi"), "Bearer [redacted]"],
  // Basic credentials outside a header line: only base64-looking values (a digit, + / =, or a
  // lower-to-upper case change), so "Basic questions" stays readable.
  // (Case-sensitive: the case change must be a real one.)
  [new RegExp(String.raw`\b([Bb]asic|BASIC)\s+(?=${TOKEN}*?(?:[0-9+/=]|[a-z][A-Z]))${TOKEN}{8,}`, "g"), "$1 [redacted]"],
  [new RegExp(String.raw`\b(sk|pk|rk|nsk)[-_]${TOKEN}{8,}`, "g"), "$1-[redacted]"],
];
// Query parameters whose name ends in key/token/secret/…: ?key=, &sig=, ?page_token= …
const QUERY_SECRET = /([?&](?:[A-Za-z0-9_.-]*?(?:key|token|secret|signature|sig|password|credential))=)(?:\\\/|[^&\s"'\\<>])+/gi;

/**
 * Remove credentials from `text`: first the exact `known` values (the caller's own key in every
 * form it may have been written in, see credentialForms), then anything that looks like one.
 */
export function scrubSecrets(text: string, known: readonly string[] = []): string {
  let out = text;
  for (const value of known) if (out.includes(value)) out = out.replaceAll(value, "[redacted]");
  out = scrubNamedValues(out);
  if (out.includes("=")) out = out.replace(QUERY_SECRET, "$1[redacted]");
  for (const [re, replacement] of PATTERNS) out = out.replace(re, replacement);
  return out;
}

// `"api_key": "…"`, `\"api_key\":\"…\"`, `x-api-key: …`, `Authorization: Basic …`, `access_token=…`:
// the name, separator and any auth scheme stay, the value goes. Found from each separator
// backwards: one regex trying every name at every position of a body cost more than all the
// other patterns together, while `:` and `=` are few and cheap to find.
const NAMED_AT_SEPARATOR = new RegExp(String.raw`(?<=(?<![A-Za-z0-9_-])(?:${SECRET_NAME})\\*["']?\s*)[:=]\s*\\*["']?(?:${SCHEME})?(?=${VALUE})`, "iy");
const VALUE_HERE = new RegExp(VALUE, "y");

function scrubNamedValues(text: string): string {
  let out = "";
  let copied = 0;
  // The next ":" and "=" (indexOf is much faster than a regex scan of the whole text).
  let colon = text.indexOf(":");
  let equals = text.indexOf("=");
  while (colon !== -1 || equals !== -1) {
    const at = colon === -1 ? equals : equals === -1 ? colon : Math.min(colon, equals);
    let next = at + 1;
    if (endsLikeSecretName(text, at)) {
      NAMED_AT_SEPARATOR.lastIndex = at;
      if (NAMED_AT_SEPARATOR.test(text)) {
        VALUE_HERE.lastIndex = NAMED_AT_SEPARATOR.lastIndex;
        VALUE_HERE.test(text);
        out += `${text.slice(copied, NAMED_AT_SEPARATOR.lastIndex)}[redacted]`;
        copied = next = VALUE_HERE.lastIndex;
      }
    }
    if (colon !== -1 && colon < next) colon = text.indexOf(":", next);
    if (equals !== -1 && equals < next) equals = text.indexOf("=", next);
  }
  return copied === 0 ? text : out + text.slice(copied);
}

/**
 * Cheap pre-check before the lookbehind: every secret name ends in y, n, t or d (key, token,
 * secret, password, authorization), so most JSON keys ("role", "model", "messages") are skipped.
 */
function endsLikeSecretName(text: string, separatorAt: number): boolean {
  let i = separatorAt - 1;
  for (let c = text.charCodeAt(i); c === 0x22 || c === 0x27 || c === 0x5c || c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d; c = text.charCodeAt(--i));
  const last = text.charCodeAt(i) | 0x20; // lower case
  return last === 0x79 || last === 0x6e || last === 0x74 || last === 0x64;
}

/** Shorter values are not scrubbed literally: they would cut ordinary words out of bodies. */
const MIN_LITERAL_SECRET = 8;
const PLAIN = /^[A-Za-z0-9._~-]*$/;

/**
 * Every form in which a credential can be echoed: as sent, JSON-escaped (and with `/` as `\/`),
 * JSON-escaped twice (a JSON document inside a JSON string), and percent-encoded; longest first
 * so a longer form is replaced before a shorter one inside it. Too-short values are left out.
 */
export function credentialForms(values: ReadonlyArray<string | null | undefined>): string[] {
  // Runs for every call and usually finds one plain key: no Set, no closure, no sort for it.
  const forms: string[] = [];
  for (const value of values) {
    if (!value || value.length < MIN_LITERAL_SECRET || forms.includes(value)) continue;
    forms.push(value);
    if (!PLAIN.test(value)) forms.push(...escapedForms(value));
  }
  return forms.length > 1 ? [...new Set(forms)].sort((a, b) => b.length - a.length) : forms;
}

function escapedForms(value: string): string[] {
  const out = [encodeURIComponent(value)];
  let level = [value];
  for (let depth = 0; depth < 2; depth++) {
    level = level.flatMap((v) => {
      const escaped = JSON.stringify(v).slice(1, -1);
      return [escaped, escaped.replaceAll("/", "\\/")];
    });
    out.push(...level);
  }
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
