import { Pool } from "undici";
import type { Scenario } from "./scenarios.ts";

// Closed-loop load spread round-robin over several tollbooth instances, as a load balancer
// without affinity would: `connections` clients, one request in flight each (like an SDK), and
// request i goes to instance i mod N. Same connection count and duration whatever N is, so the
// instance counts are compared under the same offered concurrency.

/** One proxied call: whether a response came back, and what was wrong with it (null: a 200). */
interface CallOutcome {
  answered: boolean;
  error: string | null;
}

/** Send the scenario's call on `pool` and read its whole body. */
export async function callOnce(pool: Pool, scenario: Scenario): Promise<CallOutcome> {
  try {
    const res = await pool.request({ path: "/v1/chat/completions", method: "POST", headers: scenario.headers, body: scenario.body });
    const text = await res.body.text();
    return { answered: true, error: res.statusCode === 200 ? null : `HTTP ${res.statusCode} ${text.slice(0, 200)}` };
  } catch (err) {
    return { answered: false, error: (err as Error).message };
  }
}

export interface SpreadResult {
  completed: number;
  failed: number;
  seconds: number;
  firstError: string | null;
}

export interface SpreadLoad {
  /** Responses received so far, any status, warm-up included: each is a call tollbooth records. */
  answered(): number;
  /** Start counting: what `result()` reports is from this instant on. */
  startWindow(): void;
  /** Stop every client once its request in flight is answered; resolves with the window's counts. */
  stop(): Promise<SpreadResult>;
}

export function spreadLoad(origins: readonly string[], scenario: Scenario, connections: number): SpreadLoad {
  const pools = origins.map((origin) => {
    if (new URL(origin).hostname !== "127.0.0.1") throw new Error(`refusing non-loopback target ${origin}`);
    // Each pool may open every connection: which instance a client's next request goes to changes.
    return new Pool(origin, { connections, pipelining: 1 });
  });
  let turn = 0;
  let answered = 0;
  let stopping = false;
  let window = { started: 0, ended: 0, completed: 0, failed: 0 };
  let firstError: string | null = null;
  const client = async () => {
    while (!stopping) {
      const pool = pools[turn++ % pools.length]!;
      const outcome = await callOnce(pool, scenario);
      if (outcome.answered) answered++;
      firstError ??= outcome.error;
      const ok = outcome.error === null;
      // Requests still in flight when the window closes finish, but are not counted in it.
      if (stopping) break;
      if (ok) window.completed++;
      else window.failed++;
    }
  };
  const clients = Promise.all(Array.from({ length: connections }, client));
  return {
    answered: () => answered,
    startWindow() {
      window = { started: performance.now(), ended: 0, completed: 0, failed: 0 };
    },
    async stop() {
      stopping = true;
      window.ended = performance.now();
      await clients;
      const seconds = (window.ended - window.started) / 1000;
      await Promise.all(pools.map((p) => p.close()));
      return { completed: window.completed, failed: window.failed, seconds, firstError };
    },
  };
}
