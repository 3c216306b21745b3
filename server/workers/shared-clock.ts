import { systemClock, type Clock } from "../clock.ts";

// Tests pin "now" with a plain object on the main thread ({ now: () => t }, t changed between
// steps). Worker threads cannot call it, so the main thread publishes its reading into shared
// memory before each request it hands a worker (and a few times a second for the jobs), and
// workers read that. With the system clock nothing is shared: every thread reads Date.now().

export interface ClockShare {
  /** null for the system clock. */
  buffer: SharedArrayBuffer | null;
  /** Write the main clock's current reading for the workers. */
  publish(): void;
  stop(): void;
}

export function shareClock(clock: Clock): ClockShare {
  if (clock === systemClock) return { buffer: null, publish() {}, stop() {} };
  const buffer = new SharedArrayBuffer(8);
  const cell = new Float64Array(buffer);
  const publish = () => {
    cell[0] = clock.now();
  };
  publish();
  const timer = setInterval(publish, 50);
  timer.unref();
  return { buffer, publish, stop: () => clearInterval(timer) };
}

/** A worker's clock: the main thread's shared reading, or the system clock. */
export function clockFrom(buffer: SharedArrayBuffer | null): Clock {
  if (!buffer) return systemClock;
  const cell = new Float64Array(buffer);
  return { now: () => cell[0]! };
}
