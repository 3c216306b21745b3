import { randomBytes } from "node:crypto";
import { and, eq, gt, lte } from "drizzle-orm";
import type { Db } from "../db/database.ts";
import { sessions, type Session } from "../db/schema.ts";

// Dashboard sessions live in SQLite (not in a signed cookie) so logout really ends one: the row
// is deleted and the old cookie matches nothing. 32 random bytes make ids unguessable.

/** A week: long enough not to nag an operator, short enough that a forgotten laptop expires. */
export const SESSION_TTL_MS = 7 * 24 * 3_600_000;

function randomToken(): string {
  return randomBytes(32).toString("base64url");
}

export async function createSession(db: Db, now: number): Promise<Session> {
  // Expired rows are only ever read to be refused; dropping them at login keeps the table tiny.
  await db.orm.delete(sessions).where(lte(sessions.expiresAt, now));
  const [session] = await db.orm
    .insert(sessions)
    .values({ id: randomToken(), csrfToken: randomToken(), createdAt: now, expiresAt: now + SESSION_TTL_MS })
    .returning();
  return session!;
}

/** The live session with this id, or null (unknown, expired or malformed). */
export async function findSession(db: Db, id: string | undefined, now: number): Promise<Session | null> {
  if (!id || !/^[A-Za-z0-9_-]{43}$/.test(id)) return null;
  const [session] = await db.orm.select().from(sessions).where(and(eq(sessions.id, id), gt(sessions.expiresAt, now)));
  return session ?? null;
}

export async function deleteSession(db: Db, id: string): Promise<void> {
  await db.orm.delete(sessions).where(eq(sessions.id, id));
}
