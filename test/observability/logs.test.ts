import { Writable } from "node:stream";
import { describe, expect, it } from "vitest";
import { createLogger } from "../../server/log.ts";
import { startFakeUpstream } from "../fake-upstream.ts";
import { startTempServerProcess, } from "../server-process.ts";
import { CALLER_KEY, chatBody } from "../proxy/proxy-harness.ts";
import { waitFor } from "../harness.ts";

function capture() {
  const lines: string[] = [];
  const stream = new Writable({
    write(chunk, _enc, done) {
      lines.push(...String(chunk).split("\n").filter(Boolean));
      done();
    },
  });
  return { stream, lines };
}

describe("logs", () => {
  it("writes JSON lines at the configured level, with credentials scrubbed from messages and fields", () => {
    const out = capture();
    const log = createLogger("info", out.stream);
    log.debug("not at info level");
    // What per-call callers check before building a line's fields.
    expect([log.enabled("debug"), log.enabled("info"), log.enabled("error")]).toEqual([false, true, true]);
    log.error(`upstream said: Authorization: Bearer ${CALLER_KEY} and ?api_key=abcdef0123456789 rejected`, {
      detail: `{"api_key": "sk-live-0123456789abcdefghij"}`,
      status: 401,
    });
    expect(out.lines).toHaveLength(1);
    const line = JSON.parse(out.lines[0]!) as Record<string, unknown>;
    expect(line).toMatchObject({ level: "error", status: 401 });
    expect(typeof line.time).toBe("string");
    expect(out.lines[0]).not.toContain(CALLER_KEY);
    expect(out.lines[0]).not.toContain("abcdef0123456789");
    expect(out.lines[0]).not.toContain("sk-live-0123456789abcdefghij");
    expect(String(line.msg)).toContain("[redacted]");
  });

  it("logs one debug line per call carrying the x-tollbooth-request-id, and never the caller's key", { timeout: 30_000 }, async () => {
    const upstream = await startFakeUpstream();
    const server = await startTempServerProcess({ UPSTREAM_BASE_URL: upstream.url, LOG_LEVEL: "debug", CRON_ENABLED: "false" });
    try {
      const res = await fetch(`${server.url}/v1/chat/completions`, {
        method: "POST",
        headers: { authorization: `Bearer ${CALLER_KEY}`, "content-type": "application/json", "x-tollbooth-team": "ml" },
        body: JSON.stringify(chatBody({ model: `model-named-${CALLER_KEY}` })),
      });
      await res.text();
      const requestId = res.headers.get("x-tollbooth-request-id")!;
      const line = await waitFor(() => server.log().split("\n").find((l) => l.includes(requestId)));
      expect(JSON.parse(line)).toMatchObject({ level: "debug", msg: "call", requestId, team: "ml", status: res.status, endpoint: "/v1/chat/completions" });
      expect(server.log()).not.toContain(CALLER_KEY);
    } finally {
      await server.stop();
      await upstream.close();
    }
  });
});
