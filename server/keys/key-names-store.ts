import { eq } from "drizzle-orm";
import type { Db } from "../db/open.ts";
import { keyNames } from "../db/schema.ts";

// Names for key fingerprints: one row per named key, read whole (a few hundred keys at most
// have names) for every page and report that shows keys.

export type KeyNames = ReadonlyMap<string, string>;

/** Every named key: key_id → name. */
export async function listKeyNames(db: Db): Promise<KeyNames> {
  const rows = await db.orm.select({ keyId: keyNames.keyId, name: keyNames.name }).from(keyNames);
  return new Map(rows.map((r) => [r.keyId, r.name]));
}

/** Name a key, rename it, or (name null) forget its name. */
export async function setKeyName(db: Db, keyId: string, name: string | null, now: number): Promise<void> {
  if (name === null) {
    await db.orm.delete(keyNames).where(eq(keyNames.keyId, keyId));
    return;
  }
  await db.orm
    .insert(keyNames)
    .values({ keyId, name, updatedAt: now })
    .onConflictDoUpdate({ target: keyNames.keyId, set: { name, updatedAt: now } });
}
