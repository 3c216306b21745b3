import { createRoute, z } from "@hono/zod-openapi";
import type { AppDeps } from "../app.ts";
import { ApiError } from "../errors.ts";
import { apiRouter, errors, json, jsonBody } from "../api/openapi.ts";
import { keyJson, keyJsonSchema, keyWithSecretSchema, newKeySchema, rotateSchema } from "./key-input.ts";
import { createKey, listKeys, revokeKey, rotateKey, type KeyView } from "./keys-store.ts";

// /api/keys: tollbooth keys. The key itself is in the answer of a create or a rotate only; the
// database keeps its SHA-256.

const idParam = z.object({
  id: z
    .string()
    .regex(/^key_[0-9A-Za-z]{16}$/, "must be a key id (key_…)")
    .meta({ param: { name: "id", in: "path" }, description: "Key id", example: "key_7Hq2xK9aB3dE5fG1" }),
});

export function issuedKeysRoutes({ db, clock }: Pick<AppDeps, "db" | "clock">) {
  const now = () => clock.now();
  const createBody = jsonBody(newKeySchema(now), { description: "A new key for a team" });
  const create = createRoute({
    method: "post",
    path: "/",
    summary: "Issue a tollbooth key (the key is shown in this answer only)",
    middleware: createBody.middleware,
    request: createBody.request,
    responses: { 201: json(keyWithSecretSchema, "The key, with its secret"), ...errors() },
  });
  const list = createRoute({
    method: "get",
    path: "/",
    summary: "Every tollbooth key, newest first, by prefix",
    responses: { 200: json(z.object({ data: z.array(keyJsonSchema) }), "The keys"), ...errors() },
  });
  const revoke = createRoute({
    method: "post",
    path: "/{id}/revoke",
    summary: "Revoke a key (every instance refuses it within a second)",
    request: { params: idParam },
    responses: { 200: json(keyJsonSchema, "The revoked key"), ...errors(404) },
  });
  const rotateBody = jsonBody(rotateSchema, { description: "How long the old key keeps working", optional: true });
  const rotate = createRoute({
    method: "post",
    path: "/{id}/rotate",
    summary: "A new secret for the key; the old one works for grace_seconds more",
    middleware: rotateBody.middleware,
    request: { params: idParam, ...rotateBody.request },
    responses: { 201: json(keyWithSecretSchema, "The key with its new secret"), ...errors(404) },
  });

  const found = (key: KeyView | null, id: string): KeyView => {
    if (!key) throw new ApiError({ status: 404, type: "invalid_request_error", code: "not_found", message: `no key with id ${id}` });
    return key;
  };

  return apiRouter()
    .openapi(create, async (c) => {
      const b = c.var.body;
      const { key, secret } = await createKey(db, { name: b.name, team: b.team ?? null, project: b.project ?? null, models: b.models ?? null, rpm: b.rpm ?? null, tpm: b.tpm ?? null, expiresAt: b.expires_at }, now());
      return c.json({ ...keyJson(key, now()), key: secret }, 201);
    })
    .openapi(list, async (c) => c.json({ data: (await listKeys(db)).map((k) => keyJson(k, now())) }, 200))
    .openapi(revoke, async (c) => {
      const { id } = c.req.valid("param");
      return c.json(keyJson(found(await revokeKey(db, id, now()), id), now()), 200);
    })
    .openapi(rotate, async (c) => {
      const { id } = c.req.valid("param");
      const graceSeconds = (c.var.body as { grace_seconds: number } | undefined)?.grace_seconds ?? 3600;
      const rotated = await rotateKey(db, id, graceSeconds, now());
      const key = found(rotated?.key ?? null, id);
      return c.json({ ...keyJson(key, now()), key: rotated!.secret }, 201);
    });
}
