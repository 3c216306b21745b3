import { Hono } from "hono";
import type { AppDeps } from "../app.ts";
import { ApiError } from "../errors.ts";
import type { PageEnv } from "../pages/page-env.tsx";
import { parseInput } from "../validation.ts";
import type { KeyForm } from "../../views/keys/issued-keys.tsx";
import { EMPTY_KEY_FORM, renderKeysPage } from "./keys-page.tsx";
import { newKeySchema, rotateSchema } from "./key-input.ts";
import { createKey, revokeKey, rotateKey } from "./keys-store.ts";

const FORM_FIELDS = ["name", "team", "project", "models", "expires_at", "rpm", "tpm"] as const;

/**
 * The issued keys' forms on the /keys page: POST /keys (issue; the answer shows the key once, so no redirect), POST
 * /keys/:id/revoke and /keys/:id/rotate. Same validation as /api/keys.
 */
export function issuedKeysPages(deps: Pick<AppDeps, "db" | "clock" | "config">): Hono<PageEnv> {
  const { db, clock } = deps;
  const app = new Hono<PageEnv>();

  app.post("/keys", async (c) => {
    const body = await c.req.parseBody();
    const form = Object.fromEntries(FORM_FIELDS.map((f) => [f, typeof body[f] === "string" ? (body[f] as string).trim() : ""])) as unknown as KeyForm;
    // The API's schema, fed what a JSON client would send: numbers as numbers, the models list as an array.
    const input: Record<string, unknown> = { name: form.name };
    if (form.team) input.team = form.team;
    if (form.project) input.project = form.project;
    if (form.expires_at) input.expires_at = form.expires_at;
    if (form.models) input.models = form.models.split(",").map((m) => m.trim()).filter(Boolean);
    if (form.rpm) input.rpm = Number(form.rpm);
    if (form.tpm) input.tpm = Number(form.tpm);
    try {
      const b = parseInput(newKeySchema(() => clock.now()), input, "form");
      const { key, secret } = await createKey(db, { name: b.name, team: b.team ?? null, project: b.project ?? null, models: b.models ?? null, rpm: b.rpm ?? null, tpm: b.tpm ?? null, expiresAt: b.expires_at }, clock.now());
      return renderKeysPage(c, deps, { form: EMPTY_KEY_FORM, error: null, issued: { name: key.name, secret, rotated: false } });
    } catch (err) {
      if (!(err instanceof ApiError)) throw err;
      c.status(400);
      return renderKeysPage(c, deps, { form, error: err.message, issued: null });
    }
  });

  app.post("/keys/:id/revoke", async (c) => {
    if (!(await revokeKey(db, c.req.param("id"), clock.now()))) return c.notFound();
    return c.redirect("/keys", 303);
  });

  app.post("/keys/:id/rotate", async (c) => {
    const body = await c.req.parseBody();
    const grace = typeof body.grace_seconds === "string" && body.grace_seconds !== "" ? Number(body.grace_seconds) : undefined;
    const { grace_seconds } = parseInput(rotateSchema, grace === undefined ? {} : { grace_seconds: grace }, "form");
    const rotated = await rotateKey(db, c.req.param("id"), grace_seconds, clock.now());
    if (!rotated) return c.notFound();
    return renderKeysPage(c, deps, { form: EMPTY_KEY_FORM, error: null, issued: { name: rotated.key.name, secret: rotated.secret, rotated: true } });
  });

  return app;
}
