// The result table, as markdown: one row per figure, the verdict in the last column. Rows with
// no target are informational ("—"); a missed target says MISSED in capitals so it stands out.

export type Verdict = "PASS" | "MISSED" | "—";

export interface Row {
  metric: string;
  direct: string;
  tollbooth: string;
  delta: string;
  target: string;
  result: Verdict;
}

export const verdict = (ok: boolean): Verdict => (ok ? "PASS" : "MISSED");

export const fmt = {
  ms: (x: number) => `${x.toFixed(3)} ms`,
  added: (x: number) => `${x >= 0 ? "+" : "−"}${Math.abs(x).toFixed(3)} ms`,
  rate: (x: number, unit: string) => `${Math.round(x).toLocaleString("en-US")} ${unit}`,
  ratio: (x: number) => `${x.toFixed(2)}×`,
  mb: (x: number) => `${x.toFixed(1)} MB`,
  int: (x: number) => x.toLocaleString("en-US"),
};

/** `columns` renames the two figure columns for benchmarks that compare something else than direct vs tollbooth. */
export function markdownTable(rows: readonly Row[], columns: { direct: string; tollbooth: string } = { direct: "direct", tollbooth: "tollbooth" }): string {
  const head = ["metric", columns.direct, columns.tollbooth, "ratio / added", "target", "result"];
  const cells = rows.map((r) => [r.metric, r.direct, r.tollbooth, r.delta, r.target, r.result]);
  const widths = head.map((h, i) => Math.max(h.length, ...cells.map((c) => c[i]!.length)));
  const line = (c: string[]) => `| ${c.map((s, i) => s.padEnd(widths[i]!)).join(" | ")} |`;
  return [line(head), `|${widths.map((w) => "-".repeat(w + 2)).join("|")}|`, ...cells.map(line)].join("\n");
}
