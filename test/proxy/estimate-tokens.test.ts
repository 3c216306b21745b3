import { describe, expect, it } from "vitest";
import { estimateUsage } from "../../server/proxy/estimate-tokens.ts";

// Estimates count with the Llama 3 tokenizer on its own thread. Its ~10 MB vocabulary took
// 0.3–2 s of CPU to load; loaded on the serving thread, the first estimate stalled every
// proxied call in flight.

describe("estimateUsage", () => {
  it("never stalls the calling thread, even for the first estimate (the vocabulary loads elsewhere)", async () => {
    // The longest gap between ticks of a 5 ms timer while the estimate runs (and just after).
    let longestGap = 0;
    let last = performance.now();
    const ticker = setInterval(() => {
      const now = performance.now();
      longestGap = Math.max(longestGap, now - last);
      last = now;
    }, 5);
    await estimateUsage({ messages: [{ role: "user", content: "Say hi" }] }, "Hello, world!");
    await new Promise((resolve) => setTimeout(resolve, 50));
    clearInterval(ticker);
    // Loading the vocabulary on this thread blocks it for 300 ms or more (2 s at load average
    // 20); a busy machine's own scheduling adds far less than 250 ms.
    expect(longestGap).toBeLessThan(250);
  });

  it("counts the prompt's messages with the chat template's overhead and the completion exactly", async () => {
    const usage = await estimateUsage(
      { messages: [{ role: "system", content: "Say hi" }, { role: "user", content: [{ type: "text", text: "The quick brown fox jumps over the lazy dog." }] }] },
      "Hello, world!",
    );
    // 5 (begin + assistant header) + 2 × 5 per message + 2 + 10 tokens of text.
    expect(usage).toEqual({ promptTokens: 27, completionTokens: 4, totalTokens: 31 });
  });

  it("counts a legacy prompt string, scales text beyond the kept window, and leaves an unknown prompt null", async () => {
    expect(await estimateUsage({ prompt: "Say hi" }, "Hello, world!", 13)).toEqual({ promptTokens: 2, completionTokens: 8, totalTokens: 10 });
    expect(await estimateUsage(null, "")).toEqual({ promptTokens: null, completionTokens: 0, totalTokens: null });
  });
});
