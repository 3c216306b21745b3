import { sql } from "drizzle-orm";
import type { Db } from "../db/database.ts";

// Brute-force brake for POST /login, in the database (login_throttle), so that every instance
// behind a load balancer counts the same attempts: a guesser spreading attempts over instances
// gets no more than from one. The admin token is long and random, so this is about noise, load
// and log spam more than about the odds of a guess, and it must hold under concurrency: an
// attempt takes its slot when it arrives, before the form is read or the token compared, in one
// transaction serialised on the table's global row, so a burst of parallel guesses (through one
// instance or several) cannot all be judged before the first one fails.
//
// Per address: FREE_ATTEMPTS attempts, then the address is locked out (429 + retry-after) for
// BASE_LOCKOUT_MS, doubling with each further lockout up to MAX_LOCKOUT_MS. A correct login
// forgets the address, so a few honest typos followed by the right token cost nothing.
// Across all addresses: at most GLOBAL_ATTEMPTS_PER_SECOND attempts are judged per second, which
// caps a flood from rotating addresses (a botnet, or every address of an IPv6 prefix).

/** Attempts per address before a lockout. The attempt that uses the last one is still judged. */
export const FREE_ATTEMPTS = 5;
export const BASE_LOCKOUT_MS = 60_000;
export const MAX_LOCKOUT_MS = 15 * 60_000;
/** Forget an address this long after its last attempt or the end of its last lockout. */
export const FORGET_MS = 60 * 60_000;
export const GLOBAL_ATTEMPTS_PER_SECOND = 10;

/**
 * The row of the attempts judged per second across all addresses (no client address is empty).
 * Every change to the table first upserts this row, which locks it until the transaction ends on
 * PostgreSQL (and is a write, taking the file's write lock, on SQLite): the changes are serialised
 * across instances without the global lock of an `immediate` transaction.
 */
const GLOBAL = "";

interface Entry {
  /** Attempts since the last correct login or lockout, including ones still being judged. */
  attempts: number;
  /** Lockouts so far: each doubles the next. */
  lockouts: number;
  /** 0 when not locked out. */
  lockedUntil: number;
  /** Last attempt or end of the last lockout, whichever is later. */
  last: number;
}

export type Admission = { admitted: true } | { admitted: false; retryAfterMs: number; scope: "address" | "global" };

/** Lock the global row (creating it the first time) and read it: attempts judged in the second starting at `last`. */
async function lockGlobal(tx: Db): Promise<{ attempts: number; last: number }> {
  const row = await tx.get<{ attempts: number; last: number }>(sql`INSERT INTO login_throttle (address, attempts, lockouts, locked_until, last)
    VALUES (${GLOBAL}, 0, 0, 0, 0)
    ON CONFLICT (address) DO UPDATE SET attempts = login_throttle.attempts
    RETURNING attempts, last`);
  return row!;
}

async function writeEntry(tx: Db, address: string, e: Entry): Promise<void> {
  await tx.run(sql`INSERT INTO login_throttle (address, attempts, lockouts, locked_until, last)
    VALUES (${address}, ${e.attempts}, ${e.lockouts}, ${e.lockedUntil}, ${e.last})
    ON CONFLICT (address) DO UPDATE SET attempts = excluded.attempts, lockouts = excluded.lockouts,
      locked_until = excluded.locked_until, last = excluded.last`);
}

export class LoginThrottle {
  constructor(private readonly db: Db) {}

  /**
   * Call when a login attempt arrives, before the form is read: either it may be judged (its
   * slot is taken now and stays taken unless `succeed` is called), or it is refused for retryAfterMs.
   */
  admit(address: string, now: number): Promise<Admission> {
    return this.db.transaction(async (tx): Promise<Admission> => {
      const global = await lockGlobal(tx);
      let e = await tx.get<Entry>(
        sql`SELECT attempts, lockouts, locked_until AS "lockedUntil", last FROM login_throttle WHERE address = ${address}`,
      );
      if (e && now < e.lockedUntil) return { admitted: false, retryAfterMs: e.lockedUntil - now, scope: "address" };
      if (e && now - e.last > FORGET_MS) e = undefined;

      const secondStart = Math.floor(now / 1000) * 1000;
      const judged = global.last === secondStart ? global.attempts : 0;
      if (judged >= GLOBAL_ATTEMPTS_PER_SECOND) return { admitted: false, retryAfterMs: secondStart + 1000 - now, scope: "global" };
      await tx.run(sql`UPDATE login_throttle SET attempts = ${judged + 1}, last = ${secondStart} WHERE address = ${GLOBAL}`);

      // A lockout that has run out leaves a fresh allowance, but is remembered for the doubling.
      const attempts = e && e.lockedUntil === 0 ? e.attempts + 1 : 1;
      const lockouts = e?.lockouts ?? 0;
      const next: Entry = { attempts, lockouts, lockedUntil: 0, last: now };
      if (attempts >= FREE_ATTEMPTS) {
        next.lockedUntil = now + Math.min(MAX_LOCKOUT_MS, BASE_LOCKOUT_MS * 2 ** lockouts);
        next.lockouts = lockouts + 1;
        next.last = next.lockedUntil;
      }
      await writeEntry(tx, address, next);
      // Addresses quiet for longer than FORGET_MS are forgotten anyway: dropping them here bounds
      // the table (only judged attempts add rows, at most GLOBAL_ATTEMPTS_PER_SECOND a second).
      await tx.run(sql`DELETE FROM login_throttle WHERE last < ${now - FORGET_MS} AND address <> ${GLOBAL}`);
      return { admitted: true };
    });
  }

  /** A correct login: forget the address and give its slot back to the global budget. */
  async succeed(address: string, now: number): Promise<void> {
    await this.db.transaction(async (tx) => {
      const global = await lockGlobal(tx);
      await tx.run(sql`DELETE FROM login_throttle WHERE address = ${address}`);
      if (global.last === Math.floor(now / 1000) * 1000 && global.attempts > 0) {
        await tx.run(sql`UPDATE login_throttle SET attempts = attempts - 1 WHERE address = ${GLOBAL}`);
      }
    });
  }
}
