import { Pool } from "undici";
import type { Scenario } from "./scenarios.ts";

// Closed-loop load spread round-robin over several tollbooth instances, as a load balancer
// without affinity would: `connections` clients, one request in flight each (like an SDK), and
// request i goes to instance i mod N. Same connection count and duration whatever N is, so the
// instance counts are compared under the same offered concurrency.

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
      let ok = false;
      try {
        const res = await pool.request({ path: "/v1/chat/completions", method: "POST", headers: scenario.headers, body: scenario.body });
        const text = await res.body.text();
        answered++;
        ok = res.statusCode === 200;
        if (!ok) firstError ??= `HTTP ${res.statusCode} ${text.slice(0, 200)}`;
      } catch (err) {
        firstError ??= (err as Error).message;
      }
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
