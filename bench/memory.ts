import { median, slope } from "./stats.ts";

// "Flat" (the memory target, docs/architecture.md): the last 10 s are within 10% or 20 MB of the
// first 10 s, compared as window medians (the t=0 sample, taken before load starts, is left out;
// short soaks use windows of a third of the run). Sampled heapUsed is a GC sawtooth (40-170 MB
// under load here), so run.ts also compares the live heap after a full GC, idle before vs after
// the soak.

/** One sample of the server process, taken inside it once a second. */
export interface MemorySample {
  /** Seconds since sampling started. */
  t: number;
  rss: number;
  heapUsed: number;
  /** Calls written by the recorder so far, and rows still queued (recorder lag). */
  recorded: number;
  pending: number;
}

export interface Drift {
  windowSamples: number;
  firstMB: number;
  lastMB: number;
  /** Least-squares growth over the whole soak, MB per minute. */
  slopeMBPerMin: number;
  flat: boolean;
}

const MB = 1024 * 1024;
export const isFlat = (firstMB: number, lastMB: number) => lastMB <= firstMB * 1.1 || lastMB - firstMB <= 20;

export function drift(samples: readonly MemorySample[], pick: (s: MemorySample) => number): Drift {
  const loaded = samples.filter((s) => s.t > 0);
  const k = Math.max(1, Math.min(10, Math.floor(loaded.length / 3)));
  const firstMB = median(loaded.slice(0, k).map(pick)) / MB;
  const lastMB = median(loaded.slice(-k).map(pick)) / MB;
  const slopeMBPerMin = slope(loaded.map((s) => s.t / 60), loaded.map((s) => pick(s) / MB));
  return { windowSamples: k, firstMB, lastMB, slopeMBPerMin, flat: isFlat(firstMB, lastMB) };
}

/** Rows the recorder committed per second over the soak, and its deepest queue. */
export function recordingRate(samples: readonly MemorySample[]): { rowsPerSec: number; maxPending: number } {
  const first = samples[0];
  const last = samples[samples.length - 1];
  const maxPending = Math.max(0, ...samples.map((s) => s.pending));
  if (!first || !last || last.t <= first.t) return { rowsPerSec: NaN, maxPending };
  return { rowsPerSec: (last.recorded - first.recorded) / (last.t - first.t), maxPending };
}
