import { desc, eq, isNull } from "drizzle-orm";
import type { Db } from "../db/open.ts";
import { tollboothKeys, tollboothKeySecrets, type TollboothKey } from "../db/schema.ts";
import { bumpControlVersion } from "../budgets/control-version.ts";
import type { KeyEntry } from "../budgets/spend-messages.ts";
import { hashKeySecret, keyPrefix, newKeyId, newKeySecret } from "./key-secret.ts";

// Reads and writes of tollbooth keys and their secrets. Every change bumps the spend-control
// version, which is how the serving threads of every instance learn of it.

export interface NewKey {
  name: string;
  team: string | null;
  project: string | null;
  models: string[] | null;
  rpm: number | null;
  tpm: number | null;
  expiresAt: number | null;
}

export interface KeyView extends TollboothKey {
  /** Prefix of the current secret. */
  prefix: string;
}

export async function createKey(db: Db, input: NewKey, now: number): Promise<{ key: KeyView; secret: string }> {
  const secret = newKeySecret();
  const id = newKeyId();
  const row = db.transaction((tx) => {
    const key = tx
      .insert(tollboothKeys)
      .values({ id, name: input.name, team: input.team, project: input.project, models: input.models ? JSON.stringify(input.models) : null, rpm: input.rpm, tpm: input.tpm, expiresAt: input.expiresAt, createdAt: now })
      .returning()
      .get();
    tx.insert(tollboothKeySecrets).values({ hash: hashKeySecret(secret), keyId: id, prefix: keyPrefix(secret), createdAt: now }).run();
    return key;
  });
  await bumpControlVersion(db);
  return { key: { ...row, prefix: keyPrefix(secret) }, secret };
}

/** Newest first, each with the prefix of its current secret. */
export async function listKeys(db: Db): Promise<KeyView[]> {
  const rows = db.select().from(tollboothKeys).orderBy(desc(tollboothKeys.createdAt), desc(tollboothKeys.id)).all();
  const current = new Map(
    db
      .select({ keyId: tollboothKeySecrets.keyId, prefix: tollboothKeySecrets.prefix })
      .from(tollboothKeySecrets)
      .where(isNull(tollboothKeySecrets.retiresAt))
      .all()
      .map((s) => [s.keyId, s.prefix]),
  );
  return rows.map((r) => ({ ...r, prefix: current.get(r.id) ?? "" }));
}

async function getKey(db: Db, id: string): Promise<KeyView | null> {
  const row = db.select().from(tollboothKeys).where(eq(tollboothKeys.id, id)).get();
  if (!row) return null;
  const secret = db.select().from(tollboothKeySecrets).where(eq(tollboothKeySecrets.keyId, id)).orderBy(desc(tollboothKeySecrets.createdAt)).all();
  return { ...row, prefix: secret.find((s) => s.retiresAt === null)?.prefix ?? secret[0]?.prefix ?? "" };
}

/** Revoke at `now` (idempotent: a revoked key keeps its first revocation time). */
export async function revokeKey(db: Db, id: string, now: number): Promise<KeyView | null> {
  const row = await getKey(db, id);
  if (!row) return null;
  if (row.revokedAt === null) {
    db.update(tollboothKeys).set({ revokedAt: now }).where(eq(tollboothKeys.id, id)).run();
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
  db.transaction((tx) => {
    // The current secret retires after the grace period; one already retiring keeps the earlier end.
    const end = now + graceSeconds * 1000;
    db.$client.prepare("UPDATE tollbooth_key_secrets SET retires_at = CASE WHEN retires_at IS NULL THEN ? ELSE min(retires_at, ?) END WHERE key_id = ?").run(end, end, id);
    tx.insert(tollboothKeySecrets).values({ hash: hashKeySecret(secret), keyId: id, prefix: keyPrefix(secret), createdAt: now }).run();
  });
  await bumpControlVersion(db);
  return { key: { ...row, prefix: keyPrefix(secret) }, secret };
}

/** Record last use (from the serving threads' reports; later times only). */
export async function touchKeys(db: Db, used: ReadonlyArray<[string, number]>): Promise<void> {
  const stmt = db.$client.prepare("UPDATE tollbooth_keys SET last_used_at = ? WHERE id = ? AND (last_used_at IS NULL OR last_used_at < ?)");
  for (const [id, at] of used) stmt.run(at, id, at);
}

/** Every secret that may still authenticate, or explain why not (revoked, expired keys too). */
export async function loadKeyEntries(db: Db, now: number): Promise<KeyEntry[]> {
  const rows = db.select().from(tollboothKeySecrets).innerJoin(tollboothKeys, eq(tollboothKeySecrets.keyId, tollboothKeys.id)).all();
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
