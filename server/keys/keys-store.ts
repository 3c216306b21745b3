import { desc, eq, isNull, sql } from "drizzle-orm";
import type { Db } from "../db/open.ts";
import { tollboothKeys, tollboothKeySecrets, type TollboothKey } from "../db/schema.ts";
import { bumpControlVersion } from "../budgets/control-version.ts";
import type { KeyEntry } from "../budgets/spend-messages.ts";
import { hashKeySecret, keyPrefix, newKeyId, newKeySecret } from "./key-secret.ts";

// Reads and writes of tollbooth keys and their secrets. Every change bumps the spend-control
// version, which is how the serving threads of every instance learn of it.

/** What an admin sets when issuing a key: the settings the serving thread checks, without its secret or state. */
export type NewKey = Omit<KeyEntry, "hash" | "keyId" | "revokedAt" | "retiresAt">;

export interface KeyView extends TollboothKey {
  /** Prefix of the current secret. */
  prefix: string;
}

export async function createKey(db: Db, input: NewKey, now: number): Promise<{ key: KeyView; secret: string }> {
  const secret = newKeySecret();
  const id = newKeyId();
  const row = await db.transaction(async (tx) => {
    const [key] = await tx.orm
      .insert(tollboothKeys)
      .values({ id, name: input.name, team: input.team, project: input.project, models: input.models ? JSON.stringify(input.models) : null, rpm: input.rpm, tpm: input.tpm, expiresAt: input.expiresAt, createdAt: now })
      .returning();
    await tx.orm.insert(tollboothKeySecrets).values({ hash: hashKeySecret(secret), keyId: id, prefix: keyPrefix(secret), createdAt: now });
    return key!;
  });
  await bumpControlVersion(db);
  return { key: { ...row, prefix: keyPrefix(secret) }, secret };
}

/** Newest first, each with the prefix of its current secret. */
export async function listKeys(db: Db): Promise<KeyView[]> {
  const rows = await db.orm.select().from(tollboothKeys).orderBy(desc(tollboothKeys.createdAt), desc(tollboothKeys.id));
  const secrets = await db.orm.select({ keyId: tollboothKeySecrets.keyId, prefix: tollboothKeySecrets.prefix }).from(tollboothKeySecrets).where(isNull(tollboothKeySecrets.retiresAt));
  const current = new Map(secrets.map((s) => [s.keyId, s.prefix]));
  return rows.map((r) => ({ ...r, prefix: current.get(r.id) ?? "" }));
}

async function getKey(db: Db, id: string): Promise<KeyView | null> {
  const [row] = await db.orm.select().from(tollboothKeys).where(eq(tollboothKeys.id, id));
  if (!row) return null;
  const secret = await db.orm.select().from(tollboothKeySecrets).where(eq(tollboothKeySecrets.keyId, id)).orderBy(desc(tollboothKeySecrets.createdAt));
  return { ...row, prefix: secret.find((s) => s.retiresAt === null)?.prefix ?? secret[0]?.prefix ?? "" };
}

/** Revoke at `now` (idempotent: a revoked key keeps its first revocation time). */
export async function revokeKey(db: Db, id: string, now: number): Promise<KeyView | null> {
  const row = await getKey(db, id);
  if (!row) return null;
  if (row.revokedAt === null) {
    await db.orm.update(tollboothKeys).set({ revokedAt: now }).where(eq(tollboothKeys.id, id));
    await bumpControlVersion(db);
  }
  return getKey(db, id);
}

/**
 * A new secret for the key; the current one keeps working for `graceSeconds` (0: stops now).
 * The key's id stays, so its budgets, usage and limits carry over.
 */
export async function rotateKey(db: Db, id: string, graceSeconds: number, now: number): Promise<{ key: KeyView; secret: string } | null> {
  const row = await getKey(db, id);
  if (!row) return null;
  const secret = newKeySecret();
  await db.transaction(async (tx) => {
    // The current secret retires after the grace period; one already retiring keeps the earlier end.
    const end = now + graceSeconds * 1000;
    await tx.run(sql`UPDATE tollbooth_key_secrets SET retires_at = CASE WHEN retires_at IS NULL THEN ${end} WHEN retires_at < ${end} THEN retires_at ELSE ${end} END WHERE key_id = ${id}`);
    await tx.orm.insert(tollboothKeySecrets).values({ hash: hashKeySecret(secret), keyId: id, prefix: keyPrefix(secret), createdAt: now });
  });
  await bumpControlVersion(db);
  return { key: { ...row, prefix: keyPrefix(secret) }, secret };
}

/** Record last use (from the serving threads' reports; later times only). */
export async function touchKeys(db: Db, used: ReadonlyArray<[string, number]>): Promise<void> {
  for (const [id, at] of used) await db.run(sql`UPDATE tollbooth_keys SET last_used_at = ${at} WHERE id = ${id} AND (last_used_at IS NULL OR last_used_at < ${at})`);
}

/** Every secret that may still authenticate, or explain why not (revoked, expired keys too). */
export async function loadKeyEntries(db: Db, now: number): Promise<KeyEntry[]> {
  const rows = await db.orm.select().from(tollboothKeySecrets).innerJoin(tollboothKeys, eq(tollboothKeySecrets.keyId, tollboothKeys.id));
  const DAY = 86_400_000;
  return (
    rows
      // Secrets retired more than a day ago answer "unknown key" rather than "retired": the
      // snapshot stays the size of the live keys.
      .filter(({ tollbooth_key_secrets: s }) => s.retiresAt === null || s.retiresAt > now - DAY)
      .map(({ tollbooth_key_secrets: s, tollbooth_keys: k }) => ({
        hash: s.hash,
        keyId: k.id,
        name: k.name,
        team: k.team,
        project: k.project,
        models: k.models === null ? null : (JSON.parse(k.models) as string[]),
        rpm: k.rpm,
        tpm: k.tpm,
        expiresAt: k.expiresAt,
        revokedAt: k.revokedAt,
        retiresAt: s.retiresAt,
      }))
  );
}
