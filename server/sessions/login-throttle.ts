// Brute-force brake for POST /login, per client address, in memory (one process; a restart
// forgets, which only helps a guesser by a few seconds). The admin token is long and random, so
// this is about noise and log spam more than about the odds of a guess: a few honest typos cost
// nothing, then each further failure doubles the wait up to MAX_DELAY_MS.

const FREE_FAILURES = 3;
const BASE_DELAY_MS = 500;
const MAX_DELAY_MS = 5_000;
/** Forget an address this long after its last failure. */
const FORGET_MS = 15 * 60_000;
/** Bound the map so a flood of spoofed or rotating addresses cannot grow memory without limit. */
const MAX_TRACKED = 10_000;

interface Entry {
  failures: number;
  last: number;
}

export class LoginThrottle {
  private readonly entries = new Map<string, Entry>();

  /** How long to hold a login attempt from `ip` before checking it. */
  delayFor(ip: string, now: number): number {
    const e = this.entries.get(ip);
    if (!e || now - e.last > FORGET_MS) return 0;
    const over = e.failures - FREE_FAILURES;
    return over < 0 ? 0 : Math.min(MAX_DELAY_MS, BASE_DELAY_MS * 2 ** over);
  }

  fail(ip: string, now: number): void {
    const e = this.entries.get(ip);
    const failures = e && now - e.last <= FORGET_MS ? e.failures + 1 : 1;
    this.entries.delete(ip); // re-insert so Map order stays "least recently failed first"
    this.entries.set(ip, { failures, last: now });
    if (this.entries.size > MAX_TRACKED) this.entries.delete(this.entries.keys().next().value!);
  }

  succeed(ip: string): void {
    this.entries.delete(ip);
  }
}
