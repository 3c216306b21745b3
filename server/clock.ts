/** Injected everywhere time is read, so tests can pin "now" (style.md: app factory takes the clock). */
export interface Clock {
  now(): number;
}

export const systemClock: Clock = { now: () => Date.now() };
