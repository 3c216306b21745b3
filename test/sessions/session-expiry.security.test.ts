import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SESSION_TTL_MS } from "../../server/sessions/store.ts";
import { startTestServer, type TestServer } from "../harness.ts";
import { logIn } from "../pages/page-client.ts";

// A session ends SESSION_TTL_MS after login on the server, whatever the browser does with the
// cookie's Max-Age: the server runs on a test clock that the test moves past the expiry.

let now = Date.parse("2026-03-02T09:00:00Z");
let server: TestServer;
beforeAll(async () => {
  server = await startTestServer({}, { now: () => now });
});
afterAll(async () => {
  await server?.stop();
});

describe("session expiry", () => {
  it("a session opens pages until SESSION_TTL_MS after login, and from then on sends the user to /login", async () => {
    const loggedInAt = now;
    const user = await logIn(server);
    expect((await user.get("/jobs")).status).toBe(200);

    now = loggedInAt + SESSION_TTL_MS - 1;
    expect((await user.get("/jobs")).status, "one millisecond before expiry").toBe(200);

    now = loggedInAt + SESSION_TTL_MS;
    const expired = await user.get("/jobs");
    expect(expired.status).toBe(302);
    expect(expired.headers.get("location")).toBe("/login?next=%2Fjobs");
    // A state change with the old cookie and its CSRF token is refused the same way.
    const post = await user.post("/logout", { _csrf: user.csrf });
    expect(post.status).toBe(302);
    expect(post.headers.get("location")).toBe("/login?next=%2Flogout");
  });
});
