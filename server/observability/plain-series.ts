// Counters and histograms kept as plain numbers, turned into Prometheus text only when scraped.
// prom-client hashes a label set into a string on every inc and observe (several per call, on
// the thread that serves /v1); here the caller finds a series' cell once and then only adds to
// its fields. The text is formatted exactly as prom-client's registry formats its own counters
// and histograms (same lines, same label order, same escaping, same number formatting), so a
// scrape reads the same whichever of the two produced it.

/** One labelled series of a counter. */
export class CounterCell {
  value = 0;
  /** Its label pairs as they appear between the braces, formatted once when the series starts. */
  constructor(readonly labels: string) {}
}

/** One labelled series of a histogram. */
export class HistogramCell {
  /** Observations per bucket, not cumulative (cumulated when exposed); above every bound: none. */
  readonly counts: number[];
  sum = 0;
  count = 0;

  constructor(
    readonly labels: string,
    private readonly bounds: readonly number[],
  ) {
    this.counts = bounds.map(() => 0);
  }

  observe(value: number): void {
    const bounds = this.bounds;
    let i = 0;
    while (i < bounds.length && value > bounds[i]!) i++;
    if (i < bounds.length) this.counts[i]!++;
    this.sum += value;
    this.count++;
  }
}

/** A counter family: its series in the order they first counted something. */
export class CounterFamily {
  private readonly cells: CounterCell[] = [];

  constructor(
    readonly name: string,
    private readonly help: string,
    private readonly labelNames: readonly string[],
  ) {}

  /** A new series (the caller keeps it and never asks twice for the same label values). */
  add(values: readonly string[]): CounterCell {
    const cell = new CounterCell(formatLabels(this.labelNames, values));
    this.cells.push(cell);
    return cell;
  }

  text(): string {
    const lines = [header(this.name, this.help, "counter")];
    for (const c of this.cells) lines.push(`${this.name}${braces(c.labels)} ${formatValue(c.value)}`);
    return lines.join("\n");
  }
}

/** A histogram family with fixed bucket bounds: its series in the order they first observed. */
export class HistogramFamily {
  private readonly cells: HistogramCell[] = [];

  constructor(
    readonly name: string,
    private readonly help: string,
    private readonly labelNames: readonly string[],
    private readonly bounds: readonly number[],
  ) {}

  add(values: readonly string[]): HistogramCell {
    const cell = new HistogramCell(formatLabels(this.labelNames, values), this.bounds);
    this.cells.push(cell);
    return cell;
  }

  text(): string {
    const { name, bounds } = this;
    const lines = [header(name, this.help, "histogram")];
    for (const c of this.cells) {
      const rest = c.labels ? `,${c.labels}` : "";
      let cumulative = 0;
      for (let i = 0; i < bounds.length; i++) {
        cumulative += c.counts[i]!;
        lines.push(`${name}_bucket{le="${bounds[i]}"${rest}} ${formatValue(cumulative)}`);
      }
      lines.push(`${name}_bucket{le="+Inf"${rest}} ${formatValue(c.count)}`);
      lines.push(`${name}_sum${braces(c.labels)} ${formatValue(c.sum)}`);
      lines.push(`${name}_count${braces(c.labels)} ${formatValue(c.count)}`);
    }
    return lines.join("\n");
  }
}

function header(name: string, help: string, type: string): string {
  return `# HELP ${name} ${escapeText(help)}\n# TYPE ${name} ${type}`;
}

function formatLabels(names: readonly string[], values: readonly string[]): string {
  if (names.length !== values.length) throw new Error(`expected ${names.length} label values, got ${values.length}`);
  return names.map((n, i) => `${n}="${escapeText(values[i]!).replace(/"/g, '\\"')}"`).join(",");
}

function braces(labels: string): string {
  return labels ? `{${labels}}` : "";
}

/** The text exposition's escaping of HELP text and (with quotes too) label values. */
function escapeText(s: string): string {
  return s.replace(/\\/g, "\\\\").replace(/\n/g, "\\n");
}

/** Numbers as prom-client writes them (its spelling of NaN included). */
function formatValue(v: number): string {
  if (Number.isNaN(v)) return "Nan";
  if (!Number.isFinite(v)) return v < 0 ? "-Inf" : "+Inf";
  return `${v}`;
}
