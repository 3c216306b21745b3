import { describe, expect, it } from "vitest";
import { fingerprintKey } from "../../server/proxy/fingerprint.ts";
import { readAttribution } from "../../server/proxy/attribution.ts";
import { capBody, scrubSecrets } from "../../server/recorder/scrub.ts";
import { parseErrorObject, parseUsage } from "../../server/proxy/usage.ts";
import { ApiError } from "../../server/errors.ts";

describe("fingerprintKey", () => {
  it.each([
    ["Bearer sk-abcdefghijklmnop1234", /^[0-9a-f]{12}\.\.1234$/],
    ["bearer   sk-abcdefghijklmnop1234", /^[0-9a-f]{12}\.\.1234$/],
    ["Bearer short", /^[0-9a-f]{12}\.\.$/], // too short to show any of it
  ])("%s → %s", (header, pattern) => {
    expect(fingerprintKey(header)).toMatch(pattern);
  });
  it("hashes the key, not the header: scheme case and spacing do not make another key", () => {
    const id = fingerprintKey("Bearer sk-abcdefghijklmnop1234");
    expect(fingerprintKey("bearer   sk-abcdefghijklmnop1234")).toBe(id);
    expect(fingerprintKey("BEARER\tsk-abcdefghijklmnop1234 ")).toBe(id);
  });
  it("is stable and differs per key", () => {
    expect(fingerprintKey("Bearer key-number-one-xxxx")).toBe(fingerprintKey("Bearer key-number-one-xxxx"));
    expect(fingerprintKey("Bearer key-number-one-xxxx")).not.toBe(fingerprintKey("Bearer key-number-two-xxxx"));
  });
  it("is null without a key", () => {
    expect(fingerprintKey(undefined)).toBeNull();
    expect(fingerprintKey("Bearer ")).toBeNull();
  });
});

describe("scrubSecrets", () => {
  it.each([
    ["Authorization: Bearer abc.def-ghi_jkl", "Bearer [redacted]"],
    ["invalid key sk-proj-ABCDEFGH12345678", "sk-[redacted]"],
    ["GET https://x.example/v1?key=AIzaSECRET&alt=json", "?key=[redacted]&alt=json"],
    ['{"api_key":"hunter2hunter2"}', '{"api_key":"[redacted]"}'],
  ])("%s", (input, expected) => {
    expect(scrubSecrets(input)).toContain(expected);
  });
  it("leaves ordinary text alone", () => {
    expect(scrubSecrets("the model is overloaded, retry")).toBe("the model is overloaded, retry");
  });
});

describe("capBody", () => {
  it("keeps short bodies and flags cut ones without splitting a character", () => {
    expect(capBody("hello", 1024)).toEqual({ text: "hello", truncated: false });
    const cut = capBody("é".repeat(1000), 1001);
    expect(cut.truncated).toBe(true);
    expect(Buffer.byteLength(cut.text)).toBeLessThanOrEqual(1001);
    expect(cut.text).toBe("é".repeat(500));
  });
});

describe("readAttribution", () => {
  const from = (h: Record<string, string>) => (name: string) => h[name];
  it("reads and trims the three headers", () => {
    expect(readAttribution(from({ "x-tollbooth-team": " ml ", "x-tollbooth-user": "ana@x.io" }))).toEqual({ team: "ml", project: null, user: "ana@x.io" });
  });
  it.each([["a".repeat(129)], ["line\nbreak"], ["nul\u0000"]])("rejects %j with a 400", (value) => {
    expect(() => readAttribution(from({ "x-tollbooth-project": value }))).toThrow(ApiError);
  });
  it("accepts non-ASCII printable names", () => {
    expect(readAttribution(from({ "x-tollbooth-team": "équipe-données" })).team).toBe("équipe-données");
  });
});

describe("parseUsage / parseErrorObject", () => {
  it("derives completion tokens for embeddings and totals when missing", () => {
    expect(parseUsage({ prompt_tokens: 8, total_tokens: 8 })).toEqual({ promptTokens: 8, completionTokens: 0, totalTokens: 8 });
    expect(parseUsage({ prompt_tokens: 2, completion_tokens: 3 })).toEqual({ promptTokens: 2, completionTokens: 3, totalTokens: 5 });
    expect(parseUsage(null)).toBeNull();
    expect(parseUsage({ prompt_tokens: -1 })).toBeNull();
  });
  it("reads error objects with string or numeric codes", () => {
    expect(parseErrorObject({ error: { message: "m", type: "t", code: 429 } })).toEqual({ type: "t", message: "m" });
    expect(parseErrorObject({ error: { message: "m", code: "insufficient_credit" } })).toEqual({ type: "insufficient_credit", message: "m" });
    expect(parseErrorObject({ error: "plain" })).toEqual({ type: "upstream_error", message: "plain" });
    expect(parseErrorObject({ choices: [] })).toBeNull();
  });
});

describe("newRequestId", () => {
  it("is a UUID v7 that sorts by creation time", async () => {
    const { newRequestId } = await import("../../server/proxy/request-id.ts");
    const ids = [1_700_000_000_000, 1_700_000_000_001, 1_800_000_000_000].map((t) => newRequestId(t));
    for (const id of ids) expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect([...ids].sort()).toEqual(ids);
    expect(new Set(Array.from({ length: 1000 }, () => newRequestId(5))).size).toBe(1000);
  });
});
