import { createRoute, z } from "@hono/zod-openapi";
import type { AppDeps } from "../app.ts";
import { apiRouter, errors, json, jsonBody } from "../api/openapi.ts";
import { keyIdSchema, keyNameSchema } from "./key-name-input.ts";
import { listKeyNames, setKeyName } from "./key-names-store.ts";
import { keyLabel } from "./key-label.ts";

const keyNameJson = z.object({
  key_id: z.string(),
  name: z.string().nullable(),
  label: z.string().meta({ description: 'How pages, emails and CSV show the key, e.g. "search-prod (fe303d..Lm4R)"' }),
});

const list = createRoute({
  method: "get",
  path: "/names",
  summary: "Every named key",
  responses: { 200: json(z.object({ data: z.array(keyNameJson) }), "The named keys"), ...errors() },
});

const body = jsonBody(z.strictObject({ name: keyNameSchema.nullable() }), { description: '{"name": "search-prod"}; null or "" removes the name' });
const name = createRoute({
  method: "post",
  path: "/{key_id}/name",
  summary: "Name a key fingerprint (or remove its name)",
  middleware: body.middleware,
  request: { params: z.object({ key_id: keyIdSchema.meta({ param: { name: "key_id", in: "path" }, example: "fe303d1c9a2b..Lm4R" }) }), ...body.request },
  responses: { 200: json(keyNameJson, "The key with its name"), ...errors() },
});

/** GET /api/keys/names and POST /api/keys/:key_id/name. */
export function keysRoutes({ db, clock }: Pick<AppDeps, "db" | "clock">) {
  return apiRouter()
    .openapi(list, async (c) => {
      const names = await listKeyNames(db);
      return c.json({ data: [...names].map(([keyId, n]) => ({ key_id: keyId, name: n, label: keyLabel(keyId, names) })) }, 200);
    })
    .openapi(name, async (c) => {
      const keyId = c.req.valid("param").key_id;
      const given = c.var.body.name;
      await setKeyName(db, keyId, given, clock.now());
      const names = await listKeyNames(db);
      return c.json({ key_id: keyId, name: names.get(keyId) ?? null, label: keyLabel(keyId, names) }, 200);
    });
}
