import type { AlertRule } from "../db/schema.ts";

// A rule's threshold is stored as an integer in its kind's unit (schema.ts alertRules), so the
// comparisons in conditions.ts are integer arithmetic: error_rate and budget_projection in basis
// points (hundredths of a percent), latency_p95 in ms, spend_anomaly in hundredths of the factor.

type Kind = AlertRule["kind"];

const SCALE: Record<Kind, number> = { budget_threshold: 1, budget_projection: 100, error_rate: 100, latency_p95: 1, spend_anomaly: 100 };

/** The API's number (5 for 5 %, 3 for 3×, 800 for 800 ms) → the stored integer. */
export function thresholdToStored(kind: Kind, value: number): number {
  return Math.round(value * SCALE[kind]);
}

export function thresholdFromStored(kind: Kind, stored: number): number {
  return stored / SCALE[kind];
}

/** "5 %", "800 ms", "3×": the threshold as people read it. */
export function formatThreshold(kind: Kind, stored: number | null): string {
  if (stored === null) return "the budget's soft thresholds";
  const v = thresholdFromStored(kind, stored);
  switch (kind) {
    case "latency_p95":
      return `${v} ms`;
    case "spend_anomaly":
      return `${v}×`;
    default:
      return `${v} %`;
  }
}

/** A basis-point figure as a percentage with up to two decimals: 1250 → "12.5 %". */
export function formatBasisPoints(bp: number): string {
  return `${Number((bp / 100).toFixed(2))} %`;
}
