import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { STREAM_ERROR } from "../fake-upstream.ts";
import { logIn, type PageClient } from "../pages/page-client.ts";
import { chatBody, postChat, startProxyRig, type ProxyRig } from "../proxy/proxy-harness.ts";

// The call detail page of a streamed call: the text the caller read, put back together from the
// stored SSE events, and the stream's final error event, above the raw events (all wrapped).

let rig: ProxyRig;
let user: PageClient;

beforeAll(async () => {
  rig = await startProxyRig();
  user = await logIn(rig.server);
});
afterAll(() => rig?.stop());

async function detailOf(scenario: string): Promise<string> {
  const res = await postChat(rig, chatBody({ stream: true }), { "x-fake-scenario": scenario });
  await res.text();
  const row = await rig.waitForCall(res.headers.get("x-tollbooth-request-id"));
  const page = await user.get(`/requests/${row.id}`);
  const html = await page.text();
  expect(page.status, html).toBe(200);
  return html;
}

describe("streamed response on the call detail page", () => {
  it("shows the reassembled text and the error event above the raw events, wrapped", async () => {
    const html = await detailOf("stream-error");
    const text = html.indexOf("Response text");
    const raw = html.indexOf("Response events (raw SSE)");
    expect(text, html).toBeGreaterThan(0);
    expect(raw).toBeGreaterThan(text);
    // Two deltas of the fake upstream, then its error event.
    expect(html.slice(text, raw)).toContain('<pre class="body wrap"><code>tok0 tok1 </code></pre>');
    expect(html.slice(text, raw)).toContain(`Stream ended with an error event (${STREAM_ERROR.type}, ${STREAM_ERROR.code}):</strong> ${STREAM_ERROR.message}`);
    // The raw events wrap too: each is one long line.
    expect(html.slice(raw, html.indexOf("</pre>", raw))).toContain('<pre class="body wrap"><code>data: ');
  });

  it("a stream whose only event is an error says it produced no text", async () => {
    const html = await detailOf("stream-error-first");
    expect(html).toContain("No text before the stream ended.");
    expect(html).toContain(STREAM_ERROR.message);
  });
});
