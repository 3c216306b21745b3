// A seeded PRNG and the few distributions the demo draws from, so a seed always yields the same
// history (tests compare two runs) and live traffic stays varied without Math.random.

export interface Random {
  /** Uniform in [0, 1). */
  next(): number;
}

/** mulberry32: 32-bit state, fast, good enough for synthetic data (not for secrets). */
export function seededRandom(seed: number): Random {
  let a = seed >>> 0;
  return {
    next() {
      a = (a + 0x6d2b79f5) >>> 0;
      let t = a;
      t = Math.imul(t ^ (t >>> 15), t | 1);
      t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
      return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
    },
  };
}

export function uniform(r: Random, min: number, max: number): number {
  return min + (max - min) * r.next();
}

export function chance(r: Random, p: number): boolean {
  return r.next() < p;
}

function normal(r: Random): number {
  // Box-Muller; 1 - next() keeps log() away from 0.
  return Math.sqrt(-2 * Math.log(1 - r.next())) * Math.cos(2 * Math.PI * r.next());
}

/** Log-normal with the given median; sigma 0.5 spans roughly ×0.4–×2.7 at 95 %. */
export function logNormal(r: Random, median: number, sigma: number): number {
  return median * Math.exp(sigma * normal(r));
}

/** Poisson count for an expected value; normal approximation past 30 keeps it O(1). */
export function poisson(r: Random, mean: number): number {
  if (mean <= 0) return 0;
  if (mean > 30) return Math.max(0, Math.round(mean + Math.sqrt(mean) * normal(r)));
  const limit = Math.exp(-mean);
  let k = 0;
  for (let p = r.next(); p > limit; p *= r.next()) k++;
  return k;
}

export function pick<T>(r: Random, items: readonly T[]): T {
  const item = items[Math.floor(r.next() * items.length)];
  if (item === undefined) throw new Error("pick: empty list");
  return item;
}

export function pickWeighted<T>(r: Random, items: readonly (readonly [T, number])[]): T {
  const total = items.reduce((sum, [, w]) => sum + w, 0);
  let x = r.next() * total;
  for (const [item, w] of items) {
    x -= w;
    if (x < 0) return item;
  }
  const last = items[items.length - 1];
  if (last === undefined) throw new Error("pickWeighted: empty list");
  return last[0];
}

/** Hex digits from the PRNG: reproducible ids such as request and upstream ids. */
export function hex(r: Random, length: number): string {
  let out = "";
  while (out.length < length) out += Math.floor(r.next() * 0x100000000).toString(16).padStart(8, "0");
  return out.slice(0, length);
}

/** A version-4-shaped UUID drawn from the PRNG (request_id must be unique, not secret). */
export function uuid(r: Random): string {
  const h = hex(r, 32);
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-${((parseInt(h[16] ?? "0", 16) & 3) | 8).toString(16)}${h.slice(17, 20)}-${h.slice(20, 32)}`;
}
