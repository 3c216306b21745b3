import { Pool } from "undici";
import { callOnce } from "./scale-load.ts";
import type { Scenario } from "./scenarios.ts";

// Open-loop load at a fixed rate, spread round-robin over several instances: call i starts at
// i / rate seconds whatever happened to the calls before it. Unlike the closed loop of
// scale-load.ts, every setup then serves the same calls per second, so CPU per call can be
// compared between 1 and 4 instances without one of them running the machine out of CPU (which
// inflates every figure). A call that would exceed `maxInFlight` is not sent and counted as
// missed: the setup could not keep up with the rate.

interface RateResult {
  completed: number;
  failed: number;
  missed: number;
  seconds: number;
  firstError: string | null;
}

export interface RateLoad {
  /** Responses received so far, any status: each is a call tollbooth records. */
  answered(): number;
  /** Start counting from now. */
  startWindow(): void;
  /** Stop sending, wait for the calls in flight; resolves with the window's counts. */
  stop(): Promise<RateResult>;
}

export function rateLoad(origins: readonly string[], scenario: Scenario, perSecond: number, maxInFlight = 256): RateLoad {
  const pools = origins.map((origin) => {
    if (new URL(origin).hostname !== "127.0.0.1") throw new Error(`refusing non-loopback target ${origin}`);
    return new Pool(origin, { connections: maxInFlight, pipelining: 1 });
  });
  let answered = 0;
  let inFlight = 0;
  let sent = 0;
  let stopping = false;
  let firstError: string | null = null;
  let window = { started: performance.now(), ended: 0, completed: 0, failed: 0, missed: 0 };
  const t0 = performance.now();
  const settled: Array<Promise<void>> = [];

  const one = async (pool: Pool, counted: typeof window) => {
    inFlight++;
    const outcome = await callOnce(pool, scenario);
    inFlight--;
    if (outcome.answered) answered++;
    firstError ??= outcome.error;
    const ok = outcome.error === null;
    if (counted === window && !counted.ended) {
      if (ok) counted.completed++;
      else counted.failed++;
    }
  };

  // A 1 ms timer would itself cost CPU in the load generator: wake every 5 ms and send what is due.
  const timer = setInterval(() => {
    const due = Math.floor(((performance.now() - t0) / 1000) * perSecond);
    while (!stopping && sent < due) {
      const pool = pools[sent++ % pools.length]!;
      if (inFlight >= maxInFlight) {
        window.missed++;
        continue;
      }
      const p = one(pool, window);
      settled.push(p);
      if (settled.length > 10_000) settled.splice(0, 5_000);
    }
  }, 5);

  return {
    answered: () => answered,
    startWindow() {
      window = { started: performance.now(), ended: 0, completed: 0, failed: 0, missed: 0 };
    },
    async stop() {
      stopping = true;
      clearInterval(timer);
      window.ended = performance.now();
      const counted = window;
      while (inFlight > 0) await new Promise((r) => setTimeout(r, 10));
      await Promise.all(pools.map((p) => p.close()));
      return { completed: counted.completed, failed: counted.failed, missed: counted.missed, seconds: (counted.ended - counted.started) / 1000, firstError };
    },
  };
}
