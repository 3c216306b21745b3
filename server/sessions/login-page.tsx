import { Hono } from "hono";
import type { AppDeps } from "../app.ts";
import { tokenMatches } from "../auth.ts";
import { clearSessionCookie, isHttpsRequest, readSessionCookie, setSessionCookie } from "./cookie.ts";
import { safeNextPath } from "./guard.ts";
import { clientAddress } from "./client-address.ts";
import { LoginThrottle } from "./login-throttle.ts";
import { createSession, deleteSession } from "./store.ts";
import { CSRF_FIELD } from "./csrf.ts";
import { LoginPage } from "../../views/sessions/login.tsx";
import type { PageEnv } from "../pages/page-env.tsx";

/** GET/POST /login and GET/POST /logout. */
export function loginRoutes({ db, clock, adminToken, config }: Pick<AppDeps, "db" | "clock" | "adminToken" | "config">): Hono<PageEnv> {
  const app = new Hono<PageEnv>();
  const throttle = new LoginThrottle(db);

  app.get("/login", (c) => {
    const next = safeNextPath(c.req.query("next"));
    if (c.get("session")) return c.redirect(next, 302);
    return c.render(<LoginPage next={next} error={null} />, { title: "Log in" });
  });

  app.post("/login", async (c) => {
    const ip = clientAddress(c);
    // Before the body is read: parallel attempts each take their own slot, in the database, so
    // attempts through every instance count together.
    const admission = await throttle.admit(ip, clock.now());
    if (!admission.admitted) {
      const seconds = Math.max(1, Math.ceil(admission.retryAfterMs / 1000));
      c.status(429);
      c.header("retry-after", String(seconds));
      const who = admission.scope === "address" ? "from your address" : "on this server right now";
      return c.render(<LoginPage next="/" error={`Too many failed logins ${who}. Try again in ${seconds} s.`} />, { title: "Log in" });
    }
    const form = await c.req.parseBody();
    const token = typeof form.token === "string" ? form.token.trim() : "";
    const next = safeNextPath(typeof form.next === "string" ? form.next : null);
    if (token === "" || !tokenMatches(token, adminToken)) {
      c.status(401);
      return c.render(<LoginPage next={next} error="That is not the admin token." />, { title: "Log in" });
    }
    await throttle.succeed(ip, clock.now());
    const session = await createSession(db, clock.now());
    setSessionCookie(c, session.id, isHttpsRequest(c, config.PUBLIC_URL));
    // 303: the browser follows with a GET, so a reload never re-posts the token.
    return c.redirect(next, 303);
  });

  // A plain link to /logout lands here; the state change itself is the POST (CSRF-checked).
  app.get("/logout", (c) =>
    c.render(
      <article class="narrow">
        <h1>Log out?</h1>
        <form method="post" action="/logout">
          <input type="hidden" name={CSRF_FIELD} value={c.get("session")?.csrfToken ?? ""} />
          <button type="submit">Log out</button>
        </form>
      </article>,
      { title: "Log out" },
    ),
  );

  app.post("/logout", async (c) => {
    const id = readSessionCookie(c);
    if (id) await deleteSession(db, id);
    clearSessionCookie(c, isHttpsRequest(c, config.PUBLIC_URL));
    return c.redirect("/login", 303);
  });

  return app;
}
