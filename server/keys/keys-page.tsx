import { Hono, type Context } from "hono";
import type { AppDeps } from "../app.ts";
import { ApiError } from "../errors.ts";
import type { PageEnv } from "../pages/page-env.tsx";
import { parseInput } from "../validation.ts";
import { KeysPage, type KeyForm } from "../../views/keys/keys.tsx";
import { newKeySchema, rotateSchema } from "./key-input.ts";
import { createKey, listKeys, revokeKey, rotateKey } from "./keys-store.ts";

const FORM_FIELDS = ["name", "team", "project", "models", "expires_at", "rpm", "tpm"] as const;
const EMPTY_FORM: KeyForm = { name: "", team: "", project: "", models: "", expires_at: "", rpm: "", tpm: "" };

/**
 * GET /keys, POST /keys (issue; the answer shows the key once, so no redirect), POST
 * /keys/:id/revoke and /keys/:id/rotate. Same validation as /api/keys.
 */
export function keysPages({ db, clock, config }: Pick<AppDeps, "db" | "clock" | "config">): Hono<PageEnv> {
  const app = new Hono<PageEnv>();

  const render = async (c: Context<PageEnv>, form: KeyForm, error: string | null, issued: { name: string; secret: string; rotated: boolean } | null) =>
    c.render(<KeysPage keys={await listKeys(db)} now={clock.now()} form={form} error={error} issued={issued} authMode={config.AUTH_MODE} csrfToken={c.get("session")?.csrfToken ?? ""} />, {
      title: "Keys",
      nav: "keys",
    });

  app.get("/keys", (c) => render(c, EMPTY_FORM, null, null));

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
      return render(c, EMPTY_FORM, null, { name: key.name, secret, rotated: false });
    } catch (err) {
      if (!(err instanceof ApiError)) throw err;
      c.status(400);
      return render(c, form, err.message, null);
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
    return render(c, EMPTY_FORM, null, { name: rotated.key.name, secret: rotated.secret, rotated: true });
  });

  return app;
}
