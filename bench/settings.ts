// Benchmark sizes. The full run stays under ~3 minutes on 2 shared cores; BENCH_QUICK=1 shrinks
// everything to a smoke test of a few seconds. Single knobs can be overridden by env for
// experiments (e.g. BENCH_SOAK_S=20 for a shorter memory soak than the default 60 s).

export interface Settings {
  quick: boolean;
  /** Sequential requests per latency round (1 connection). */
  latencyRequests: number;
  /** Rounds per latency scenario; each round runs direct, bare proxy and tollbooth once. */
  latencyRounds: number;
  /** Concurrent connections for the throughput and soak phases. */
  connections: number;
  throughputSeconds: number;
  /** Rounds per throughput scenario, as for latency; 3 is one full rotation of the order. */
  throughputRounds: number;
  /** Unmeasured load before the first round: tollbooth's CPU per call settles after ~3 s. */
  warmupSeconds: number;
  soakSeconds: number;
  recorderRows: number;
  recorderChunk: number;
}

/** A whole-number setting from the environment (underscores allowed: BENCH_CALLS=10_000_000). */
export function intEnv(env: NodeJS.ProcessEnv, name: string, fallback: number, min = 1): number {
  const raw = env[name];
  if (raw === undefined || raw === "") return fallback;
  const n = Number(raw.replace(/_/g, ""));
  if (!Number.isFinite(n) || n < min) throw new Error(`${name} must be a number ≥ ${min}, got "${raw}"`);
  return Math.floor(n);
}

export function loadSettings(env: NodeJS.ProcessEnv = process.env): Settings {
  const quick = env.BENCH_QUICK === "1" || env.BENCH_QUICK === "true";
  const base: Settings = quick
    ? { quick, latencyRequests: 100, latencyRounds: 2, connections: 32, throughputSeconds: 1, throughputRounds: 1, warmupSeconds: 0.5, soakSeconds: 2, recorderRows: 10_000, recorderChunk: 2_500 }
    : { quick, latencyRequests: 1_500, latencyRounds: 3, connections: 32, throughputSeconds: 3, throughputRounds: 3, warmupSeconds: 3, soakSeconds: 60, recorderRows: 200_000, recorderChunk: 20_000 };
  return {
    ...base,
    latencyRequests: intEnv(env, "BENCH_LATENCY_N", base.latencyRequests),
    connections: intEnv(env, "BENCH_CONNECTIONS", base.connections),
    throughputSeconds: intEnv(env, "BENCH_TPUT_S", base.throughputSeconds),
    soakSeconds: intEnv(env, "BENCH_SOAK_S", base.soakSeconds),
    recorderRows: intEnv(env, "BENCH_RECORDER_ROWS", base.recorderRows),
  };
}
