/** What a value beyond the cap is counted as (the same word the usage breakdowns fold into). */
const OTHER_VALUE = "(other)";

/**
 * Bounds one label's values. Model names and teams come from callers' requests, so without a cap
 * a client inventing a team per call would create a time series per call and, in Prometheus, a
 * new series each time. The first `max` distinct values keep their name for the life of the
 * process; later ones are counted together under "(other)".
 */
export class LabelCap {
  private readonly seen = new Set<string>();

  constructor(private readonly max: number) {}

  value(raw: string | null | undefined): string {
    const v = raw ?? "";
    if (this.seen.has(v)) return v;
    if (this.seen.size >= this.max) return OTHER_VALUE;
    this.seen.add(v);
    return v;
  }
}

/** "2xx", "4xx", "5xx": the status label (the exact code would multiply the series by ~40). */
export function statusClass(status: number): string {
  return `${Math.floor(status / 100)}xx`;
}
