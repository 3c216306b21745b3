import { describe, expect, it } from "vitest";
import { credentialForms, scrubSecrets } from "../../server/recorder/scrub.ts";
import { CallerSecrets, credentialOf } from "../../server/proxy/caller-credentials.ts";
import { hexSecret, leakedWindows } from "../proxy/secret-windows.ts";

// Each case: text in which `secret` appears the way an upstream, an SDK or a caller writes it.
// Patterns only (no caller credentials known): no 8-character window of the secret may survive.
const basic = Buffer.from("svc-user:Pa55word-9f8e7d6c").toString("base64");
const slashKey = "abc/defghijklmnopqrstu";
const nestedKey = hexSecret();
const cases: Array<[string, string, string]> = [
  ["Authorization: Basic …", `upstream saw Authorization: Basic ${basic}`, basic],
  ["authorization header in JSON", `{"headers":{"authorization":"Basic ${basic}"}}`, basic],
  ["Basic credentials in prose", `tried Basic ${basic} against the API`, basic],
  ["?access_token= echoed", "GET https://inference.example/v1/models?access_token=ya29.a0AfH6SMBxQ9z&alt=json failed", "ya29.a0AfH6SMBxQ9z"],
  ["&api_key= echoed", "POST /v1/x?foo=1&api_key=AbC123xYz789QwE", "AbC123xYz789QwE"],
  ["x-api-key: header echoed", "invalid header x-api-key: 0f3a9c1e8b7d6a5f4e3d2c1b0a998877 for this route", "0f3a9c1e8b7d6a5f4e3d2c1b0a998877"],
  ["X-Api-Key in JSON", '{"X-Api-Key": "0f3a9c1e8b7d6a5f4e3d2c1b0a998877"}', "0f3a9c1e8b7d6a5f4e3d2c1b0a998877"],
  ["sk- with a JSON-escaped slash", `{"error":{"message":"key sk-${slashKey.replace("/", "\\/")} is revoked"}}`, slashKey],
  ["sk- whole key, not its first 8 characters", "invalid key sk-live-abcdefghijklmnop12345", "live-abcdefghijklmnop12345"],
  ["Bearer whole token, not its first characters", "sent Bearer abcdefghijklmnopqrstuvwxyz0123456789", "abcdefghijklmnopqrstuvwxyz0123456789"],
  ["Bearer with a JSON-escaped slash", `"Bearer AbCdEf\\/GhIjKlMnOpQrStUv"`, "GhIjKlMnOpQrStUv"],
  ["api_key in escaped JSON", `{"content":"{\\"api_key\\":\\"${nestedKey}\\"}"}`, nestedKey],
  ["api_key in JSON escaped twice", `{"echo":"{\\"content\\":\\"{\\\\\\"api_key\\\\\\":\\\\\\"${nestedKey}\\\\\\"}\\"}"}`, nestedKey],
  ["access_token in Python repr", `{'access_token': '${nestedKey}'}`, nestedKey],
  ["client_secret in a form body", `grant_type=client_credentials&client_secret=${nestedKey}`, nestedKey],
];

describe("scrubSecrets patterns", () => {
  it.each(cases)("%s", (_, text, secret) => {
    const out = scrubSecrets(text);
    expect(leakedWindows(out, [secret]), out).toEqual([]);
    expect(out).toContain("[redacted]");
  });

  it.each([
    "the model is overloaded, retry",
    "Basic questions about billing go to finance",
    '{"max_tokens": 1024, "prompt_tokens": 12, "stream": true}',
    "/v1/chat/completions?max_tokens=5",
  ])("leaves ordinary text alone: %s", (text) => {
    expect(scrubSecrets(text)).toBe(text);
  });

  it("keeps the field name and the scheme, so a stored error still says what was wrong", () => {
    expect(scrubSecrets(`Authorization: Basic ${basic}`)).toBe("Authorization: Basic [redacted]");
    expect(scrubSecrets('{\\"api_key\\":\\"abcdefgh1234\\"}')).toBe('{\\"api_key\\":\\"[redacted]\\"}');
  });
});

describe("the caller's own credential, in any form", () => {
  // No prefix, no field name: only knowing the value finds it.
  const plain = hexSecret();
  const odd = `tb/${hexSecret(12)}"+${hexSecret(12)}\\x`;

  it.each([
    ["as sent, inside an error message", `Incorrect API key provided: ${plain}.`, plain],
    ["as sent, in a request body", `{"messages":[{"content":"my key is ${plain} ok"}]}`, plain],
    ["JSON-escaped with an escaped slash", `{"detail":${JSON.stringify(odd).replaceAll("/", "\\/")}}`, odd],
    ["JSON-escaped twice", JSON.stringify({ body: JSON.stringify({ key: odd }) }), odd],
    ["percent-encoded in a URL", `GET /v1/models?k=${encodeURIComponent(odd)}`, odd],
  ])("%s", (_, text, secret) => {
    const out = scrubSecrets(text, credentialForms([plain, odd]));
    // The windows of the forms are checked too: a JSON-escaped form has windows of its own.
    const forms = credentialForms([secret]);
    expect(leakedWindows(out, [secret, ...forms]), out).toEqual([]);
  });

  it("collects the bearer token, x-api-key, and a Basic header's password", () => {
    const pw = "Pa55word-9f8e7d6c";
    const secrets = new CallerSecrets(`Basic ${Buffer.from(`svc:${pw}`).toString("base64")}`, [plain, undefined, "short"]);
    expect(secrets.all).toEqual(expect.arrayContaining([pw, `svc:${pw}`, plain]));
    expect(secrets.all).not.toContain("short"); // too short to scrub literally without mangling text
    expect(new CallerSecrets(`Bearer ${plain}`, []).all).toEqual([plain]);
  });

  it("reads the credential without its scheme, however it is spaced or cased", () => {
    expect(credentialOf("Bearer abc")).toBe("abc");
    expect(credentialOf("bearer   abc ")).toBe("abc");
    expect(credentialOf("abc")).toBe("abc");
    expect(credentialOf("Bearer")).toBeNull();
    expect(credentialOf(undefined)).toBeNull();
  });
});
