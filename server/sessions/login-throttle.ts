// Brute-force brake for POST /login, in memory (one process; a restart forgets, which only gives
// a guesser one more allowance). The admin token is long and random, so this is about noise,
// load and log spam more than about the odds of a guess, and it must hold under concurrency: an
// attempt takes its slot synchronously when it arrives, before the form is read or the token
// compared, so a burst of parallel guesses cannot all be judged before the first one fails.
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
/** Bound the map so a flood of rotating addresses cannot grow memory without limit. */
const MAX_TRACKED = 10_000;

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

export class LoginThrottle {
  private readonly entries = new Map<string, Entry>();
  private globalSecond = -1;
  private globalAttempts = 0;

  /**
   * Call when a login attempt arrives, before anything async: either it may be judged (its slot
   * is taken now and stays taken unless `succeed` is called), or it is refused for retryAfterMs.
   */
  admit(address: string, now: number): Admission {
    let e = this.entries.get(address);
    if (e && now < e.lockedUntil) return { admitted: false, retryAfterMs: e.lockedUntil - now, scope: "address" };
    if (e && now - e.last > FORGET_MS) e = undefined;

    const second = Math.floor(now / 1000);
    if (second !== this.globalSecond) {
      this.globalSecond = second;
      this.globalAttempts = 0;
    }
    if (this.globalAttempts >= GLOBAL_ATTEMPTS_PER_SECOND) return { admitted: false, retryAfterMs: (second + 1) * 1000 - now, scope: "global" };
    this.globalAttempts++;

    // A lockout that has run out leaves a fresh allowance, but is remembered for the doubling.
    const attempts = e && e.lockedUntil === 0 ? e.attempts + 1 : 1;
    const lockouts = e?.lockouts ?? 0;
    const next: Entry = { attempts, lockouts, lockedUntil: 0, last: now };
    if (attempts >= FREE_ATTEMPTS) {
      next.lockedUntil = now + Math.min(MAX_LOCKOUT_MS, BASE_LOCKOUT_MS * 2 ** lockouts);
      next.lockouts = lockouts + 1;
      next.last = next.lockedUntil;
    }
    this.entries.delete(address); // re-insert so Map order stays "least recently attempted first"
    this.entries.set(address, next);
    if (this.entries.size > MAX_TRACKED) this.entries.delete(this.entries.keys().next().value!);
    return { admitted: true };
  }

  /** A correct login: forget the address and give its slot back to the global budget. */
  succeed(address: string, now: number): void {
    this.entries.delete(address);
    if (Math.floor(now / 1000) === this.globalSecond && this.globalAttempts > 0) this.globalAttempts--;
  }
}
