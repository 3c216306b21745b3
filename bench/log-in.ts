/**
 * POST /login with the admin token; the session cookie for the dashboard pages. Logging in writes
 * a session row, so it waits (up to two minutes) while another process holds the data set's
 * write lock: the spend benchmark does while it measures the rollup.
 */
export async function logIn(server: { url: string; adminToken: string }, log: (msg: string) => void = () => {}): Promise<string> {
  const deadline = performance.now() + 120_000;
  for (;;) {
    const res = await fetch(`${server.url}/login`, {
      method: "POST",
      redirect: "manual",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({ token: server.adminToken, next: "/" }),
    });
    const cookie = /tb_session=[^;]+/.exec(res.headers.get("set-cookie") ?? "")?.[0];
    if (res.status === 303 && cookie) return cookie;
    if (res.status !== 500 || performance.now() > deadline) throw new Error(`login failed: HTTP ${res.status} ${(await res.text()).slice(0, 300)}`);
    log("login failed (is another process writing to the data set?); trying again");
  }
}
