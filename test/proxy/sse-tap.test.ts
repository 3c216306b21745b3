import { describe, expect, it } from "vitest";
import { SseTap } from "../../server/proxy/sse-tap.ts";

const enc = new TextEncoder();
const dec = new TextDecoder();
const chunk = (obj: unknown) => `data: ${JSON.stringify(obj)}\n\n`;
const delta = (content: string) => chunk({ id: "c1", choices: [{ index: 0, delta: { content } }] });
const usageChunk = chunk({ id: "c1", choices: [], usage: { prompt_tokens: 7, completion_tokens: 3, total_tokens: 10 } });

/** Feed `text` in pieces of `size` bytes; return what the caller would see. */
function run(tap: SseTap, text: string, size: number): string {
  const bytes = enc.encode(text);
  const out: Uint8Array[] = [];
  for (let i = 0; i < bytes.length; i += size) {
    const o = tap.push(bytes.subarray(i, i + size));
    if (o) out.push(o);
  }
  const rest = tap.end();
  if (rest) out.push(rest);
  // Decode the bytes the caller got as a whole: passthrough may split a character across writes.
  return dec.decode(Buffer.concat(out));
}

describe("SseTap", () => {
  const stream = delta("Hel") + delta("lo ") + delta("wörld") + usageChunk + "data: [DONE]\n\n";

  it.each([1, 3, 7, 64, 4096])("taps usage, text and [DONE] whatever the chunking (%i-byte pieces)", (size) => {
    const tap = new SseTap(false, () => 1);
    expect(run(tap, stream, size)).toBe(stream);
    expect(tap.usage).toEqual({ promptTokens: 7, completionTokens: 3, totalTokens: 10 });
    expect(tap.completionText()).toBe("Hello wörld");
    expect(tap.sawDone).toBe(true);
    expect(tap.upstreamId).toBe("c1");
  });

  it.each([1, 5, 4096])("drops only the usage-only chunk when asked to (%i-byte pieces)", (size) => {
    const tap = new SseTap(true, () => 1);
    expect(run(tap, stream, size)).toBe(stream.replace(usageChunk, ""));
    expect(tap.usage?.totalTokens).toBe(10);
  });

  it("passes whole events on as upstream's own bytes when stripping, and still drops the usage chunk", () => {
    const events = [delta("Hel"), delta("wörld"), usageChunk, "data: [DONE]\n\n"].map((e) => enc.encode(e));
    const tap = new SseTap(true, () => 1);
    const out = events.map((e) => tap.push(e));
    expect(out[0]).toBe(events[0]); // the same buffer: no decode/re-encode round trip
    expect(out[1]).toBe(events[1]);
    expect(out[2]).toBeNull();
    expect(out[3]).toBe(events[3]);
    expect(tap.completionText()).toBe("Helwörld");
  });

  it("re-encodes when a character is split across chunks, and after invalid UTF-8", () => {
    const text = delta("wörld") + delta("ok");
    const bytes = enc.encode(text);
    const split = bytes.indexOf(0xc3) + 1; // inside "ö"
    const tap = new SseTap(true, () => 1);
    const parts = [tap.push(bytes.subarray(0, split)), tap.push(bytes.subarray(split)), tap.end()].filter((p): p is Uint8Array => p !== null);
    expect(dec.decode(Buffer.concat(parts))).toBe(text);

    const bad = Buffer.concat([Buffer.from("data: {\"x\":\""), Buffer.from([0xff]), Buffer.from("\"}\n\n")]);
    const badTap = new SseTap(true, () => 1);
    const first = badTap.push(bad);
    const second = badTap.push(enc.encode(delta("ok")));
    expect(first).not.toBe(bad); // U+FFFD replaced the byte: the count of held bytes is not trusted any more
    expect(dec.decode(second!)).toBe(delta("ok"));
  });

  it("keeps usage that rides on a chunk with choices (never drops content)", () => {
    const mixed = chunk({ choices: [{ index: 0, delta: { content: "x" } }], usage: { prompt_tokens: 1, completion_tokens: 1, total_tokens: 2 } });
    const tap = new SseTap(true, () => 1);
    expect(run(tap, mixed, 4096)).toBe(mixed);
    expect(tap.usage?.totalTokens).toBe(2);
  });

  it("reads an error object sent inside the stream", () => {
    const tap = new SseTap(false, () => 1);
    run(tap, delta("a") + chunk({ error: { message: "boom", type: "server_error", code: 500 } }), 4096);
    expect(tap.error).toEqual({ type: "server_error", message: "boom" });
  });

  it("handles CRLF event boundaries and passes an unterminated last event on", () => {
    const crlf = `data: ${JSON.stringify({ choices: [{ delta: { content: "a" } }] })}\r\n\r\ndata: [DONE]`;
    const tap = new SseTap(true, () => 1);
    expect(run(tap, crlf, 2)).toBe(crlf);
    expect(tap.completionText()).toBe("a");
    expect(tap.sawDone).toBe(true);
  });

  it("times the first token, not the role chunk", () => {
    let t = 0;
    const tap = new SseTap(false, () => ++t);
    tap.push(enc.encode(chunk({ choices: [{ delta: { role: "assistant", content: "" } }] })));
    expect(tap.firstTokenAt).toBeNull();
    tap.push(enc.encode(delta("hi")));
    expect(tap.firstTokenAt).toBe(1);
  });

  it("passes non-JSON data lines through untouched", () => {
    const odd = ": keep-alive comment\n\ndata: not json\n\n";
    const tap = new SseTap(true, () => 1);
    expect(run(tap, odd, 3)).toBe(odd);
  });
});
