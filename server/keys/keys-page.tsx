import { Hono, type Context } from "hono";
import type { AppDeps } from "../app.ts";
import { parseInput } from "../validation.ts";
import { z } from "zod";
import { queryUsage } from "../usage/usage-query.ts";
import { bucketEndAfter, startOf } from "../time.ts";
import { KeysPage } from "../../views/keys/keys.tsx";
import type { PageEnv } from "../pages/page-env.tsx";
import { keyIdSchema, keyNameSchema } from "./key-name-input.ts";
import { listKeyNames, setKeyName } from "./key-names-store.ts";
import { listKeys } from "./keys-store.ts";
import type { KeyForm } from "../../views/keys/issued-keys.tsx";

type KeysPageDeps = Pick<AppDeps, "db" | "clock" | "config">;

export const EMPTY_KEY_FORM: KeyForm = { name: "", team: "", project: "", models: "", expires_at: "", rpm: "", tpm: "" };

/** What the issue form shows: the last form sent with its error, or a key just issued (its secret shown this once). */
export interface IssueState {
  form: KeyForm;
  error: string | null;
  issued: { name: string; secret: string; rotated: boolean } | null;
}

/** The whole /keys page: issued keys (with `state`'s form), then this month's key fingerprints and their names. */
export async function renderKeysPage(c: Context<PageEnv>, { db, clock, config }: KeysPageDeps, state: IssueState, saved = false) {
  const now = clock.now();
  const tz = config.REPORT_TZ;
  const month = await queryUsage(db, { from: startOf("month", now, tz), to: bucketEndAfter(now), tz, groupBy: ["key"] });
  const names = c.get("keyNames") ?? (await listKeyNames(db)); // the pages' middleware read them already
  const used = month.rows.filter((r) => !r.other && r.group.key).map((r) => ({ keyId: r.group.key!, requests: r.requests, costNano: r.costNano }));
  const seen = new Set(used.map((k) => k.keyId));
  const idle = [...names.keys()].filter((k) => !seen.has(k)).map((keyId) => ({ keyId, requests: 0n, costNano: 0n }));
  const csrfToken = c.get("session")?.csrfToken ?? "";
  const issued = { keys: await listKeys(db), now, ...state, authMode: config.AUTH_MODE, csrfToken };
  return c.render(<KeysPage issued={issued} named={{ keys: [...used, ...idle], names, saved, csrfToken }} />, { title: "Keys", nav: "keys" });
}

// GET /keys: the issued keys (server/keys/issued-keys-page.tsx handles their forms), then this
// month's key fingerprints (top 20 by spend) and every named one, each with a name field;
// POST /keys/name saves a name (the same checks as POST /api/keys/:key_id/name).

export function keysPages(deps: KeysPageDeps): Hono<PageEnv> {
  const { db, clock } = deps;
  const app = new Hono<PageEnv>();

  app.get("/keys", (c) => renderKeysPage(c, deps, { form: EMPTY_KEY_FORM, error: null, issued: null }, c.req.query("done") === "saved"));

  app.post("/keys/name", async (c) => {
    const body = await c.req.parseBody();
    const form = parseInput(z.object({ key_id: keyIdSchema, name: keyNameSchema }), { key_id: body.key_id, name: body.name ?? "" }, "form");
    await setKeyName(db, form.key_id, form.name, clock.now());
    return c.redirect("/keys?done=saved", 303);
  });

  return app;
}
