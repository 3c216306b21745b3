import { Pool } from "undici";
import type { Scenario } from "./scenarios.ts";

// The load generator: undici Pool with keep-alive connections and one request in flight per
// connection (no pipelining, like an SDK client). Hand-written rather than autocannon because
// it needs no install, times each request with performance.now() (µs resolution: the target
// is a sub-millisecond difference), and reads every body to the end so a stream's latency is
// the time to its last byte and a truncated stream counts as a failure.

/**
 * The three targets: the fake upstream itself, a bare Node forwarder in front of it (the floor
 * any Node proxy pays, bare-proxy-child.ts), and tollbooth in front of it.
 */
export const SIDES = ["direct", "bare", "tollbooth"] as const;
export type Side = (typeof SIDES)[number];

/** One value per target. */
export type Sides<T> = Record<Side, T>;

export interface Target {
  name: Side;
  /** e.g. http://127.0.0.1:PORT */
  origin: string;
  /** Path of /chat/completions at this target. */
  path: string;
}

/** Requests issued to a target over the whole run, to check the proxy recorded each one. */
export interface Tally {
  sent: number;
  failed: number;
  firstError: string | null;
}

export const newTally = (): Tally => ({ sent: 0, failed: 0, firstError: null });

export function makeTarget(name: Target["name"], baseUrl: string): Target {
  const url = new URL(baseUrl);
  // The benchmark only ever talks to the loopback interface.
  if (url.hostname !== "127.0.0.1") throw new Error(`refusing non-loopback target ${baseUrl}`);
  return { name, origin: url.origin, path: url.pathname.replace(/\/$/, "") + "/chat/completions" };
}

async function send(pool: Pool, target: Target, scenario: Scenario, tally: Tally): Promise<boolean> {
  tally.sent++;
  try {
    const res = await pool.request({ path: target.path, method: "POST", headers: scenario.headers, body: scenario.body });
    const text = await res.body.text();
    const ok = res.statusCode === 200 && (!scenario.stream || text.includes("data: [DONE]"));
    if (!ok) fail(tally, `${target.name} ${scenario.name}: HTTP ${res.statusCode} ${text.slice(0, 200)}`);
    return ok;
  } catch (err) {
    fail(tally, `${target.name} ${scenario.name}: ${(err as Error).message}`);
    return false;
  }
}

function fail(tally: Tally, message: string): void {
  tally.failed++;
  tally.firstError ??= message;
}

/** One connection, `n` sequential requests; returns each request's latency in ms. */
export async function latencyRound(target: Target, scenario: Scenario, n: number, tally: Tally): Promise<number[]> {
  const pool = new Pool(target.origin, { connections: 1, pipelining: 1 });
  try {
    await send(pool, target, scenario, tally); // opens the connection; not timed
    const latencies: number[] = [];
    for (let i = 0; i < n; i++) {
      const t0 = performance.now();
      await send(pool, target, scenario, tally);
      latencies.push(performance.now() - t0);
    }
    return latencies;
  } finally {
    await pool.close();
  }
}

export interface ThroughputResult {
  completed: number;
  failed: number;
  seconds: number;
  rps: number;
}

/**
 * `connections` closed-loop clients for `seconds`; scenarios are taken in turn, so a mix of
 * JSON and streaming is one call with both. Connections are opened before the clock starts.
 */
export async function throughputRound(
  target: Target,
  scenarios: readonly Scenario[],
  connections: number,
  seconds: number,
  tally: Tally,
  /** Called after each timed request with its start (performance.now()) and latency in ms. */
  onRequest?: (startedAt: number, ms: number, ok: boolean) => void,
): Promise<ThroughputResult> {
  const pool = new Pool(target.origin, { connections, pipelining: 1 });
  try {
    let turn = 0;
    const next = () => scenarios[turn++ % scenarios.length]!;
    await Promise.all(Array.from({ length: connections }, () => send(pool, target, next(), tally)));
    let completed = 0;
    let failed = 0;
    const t0 = performance.now();
    const deadline = t0 + seconds * 1000;
    const client = async () => {
      while (performance.now() < deadline) {
        const started = performance.now();
        const ok = await send(pool, target, next(), tally);
        onRequest?.(started, performance.now() - started, ok);
        if (ok) completed++;
        else failed++;
      }
    };
    await Promise.all(Array.from({ length: connections }, client));
    const elapsed = (performance.now() - t0) / 1000;
    return { completed, failed, seconds: elapsed, rps: completed / elapsed };
  } finally {
    await pool.close();
  }
}
