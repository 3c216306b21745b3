import { describe, expect, it } from "vitest";
import { curlForCall } from "../../server/requests/curl.ts";

// "Copy as curl" on the request detail page (its HTTP coverage is in pages.happy.test.ts).

const call = { endpoint: "/v1/chat/completions", team: null, project: null, user: null, request_body: '{"model":"m"}' };

describe("curlForCall", () => {
  it("replays a stored body through tollbooth with the key from the environment", () => {
    expect(curlForCall(call, "http://tb:8787")).toBe(
      ["curl 'http://tb:8787/v1/chat/completions'", '-H "Authorization: Bearer $NSCALE_API_KEY"', '-H "Content-Type: application/json"', `-d '{"model":"m"}'`].join(" \\\n  "),
    );
  });

  it("carries the attribution as X-Tollbooth-* headers, quoted so a ' or $ stays text", () => {
    const out = curlForCall({ ...call, team: "ml", project: "it's $HOME", user: null }, "http://tb");
    expect(out).toContain(`-H 'X-Tollbooth-Team: ml'`);
    expect(out).toContain(`-H 'X-Tollbooth-Project: it'\\''s $HOME'`);
    expect(out).not.toContain("X-Tollbooth-User");
  });

  it("quotes a body that would end the shell string", () => {
    expect(curlForCall({ ...call, request_body: `{"content":"don't"}` }, "http://tb")).toContain(`-d '{"content":"don'\\''t"}'`);
  });

  it("without a stored body: a plain GET for /models, a note and @request.json for the rest", () => {
    expect(curlForCall({ ...call, endpoint: "/v1/models", request_body: null }, "http://tb")).toBe(`curl 'http://tb/v1/models' \\\n  -H "Authorization: Bearer $NSCALE_API_KEY"`);
    const post = curlForCall({ ...call, request_body: null }, "http://tb");
    expect(post.startsWith("# The request body was not stored")).toBe(true);
    expect(post.endsWith("-d @request.json")).toBe(true);
  });
});
