import parsePrometheusTextFormat from "parse-prometheus-text-format";

export interface Scrape {
  /** TYPE of each family, as the parser read it. */
  types: Map<string, string>;
  /** Every sample line: name (with _bucket/_sum/_count for histograms), labels, value. */
  samples: Array<{ name: string; labels: Record<string, string>; value: number }>;
  /** Sum of the samples of `name` whose labels include `match`. */
  sum(name: string, match?: Record<string, string>): number;
  /** Distinct values of `label` over the samples of `name`. */
  values(name: string, label: string): Set<string>;
}

/**
 * Read a /metrics answer with a Prometheus text parser. The parser folds a histogram's samples
 * into one set of buckets whatever their labels, so histograms are read twice: once as
 * declared (their TYPE), once with the TYPE line dropped, which makes the parser return their
 * _bucket, _sum and _count lines as plain labelled samples.
 */
export function readScrape(text: string): Scrape {
  const types = new Map(parsePrometheusTextFormat(text).map((f) => [f.name, f.type]));
  const untyped = text
    .split("\n")
    .filter((line) => !/^# TYPE \S+ histogram$/.test(line))
    .join("\n");
  const samples = parsePrometheusTextFormat(`${untyped}\n`).flatMap((f) => f.metrics.map((m) => ({ name: f.name, labels: m.labels ?? {}, value: Number(m.value) })));
  const matches = (labels: Record<string, string>, match: Record<string, string>) => Object.entries(match).every(([k, v]) => labels[k] === v);
  return {
    types,
    samples,
    sum: (name, match = {}) => samples.filter((s) => s.name === name && matches(s.labels, match)).reduce((a, s) => a + s.value, 0),
    values: (name, label) => new Set(samples.filter((s) => s.name === name && label in s.labels).map((s) => s.labels[label]!)),
  };
}
