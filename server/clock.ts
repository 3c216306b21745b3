/** Injected everywhere time is read (startServer and createApp take it), so tests can pin "now". */
export interface Clock {
  now(): number;
}

export const systemClock: Clock = { now: () => Date.now() };
