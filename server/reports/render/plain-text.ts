// Plain-text parts of report emails: aligned columns in a monospace-friendly layout, for clients
// (and people) that do not show HTML. Nothing is escaped: text/plain is never interpreted.

/** Columns padded to their widest cell; `right` marks the columns aligned right. */
export function textTable(headers: string[], rows: string[][], right: boolean[]): string[] {
  const all = [headers, ...rows];
  const widths = headers.map((_, i) => Math.min(48, Math.max(...all.map((r) => (r[i] ?? "").length))));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => (right[i] ? c.padStart(widths[i]!) : c.padEnd(widths[i]!)))
      .join("  ")
      .trimEnd();
  return [line(headers), widths.map((w) => "-".repeat(w)).join("  "), ...rows.map(line)];
}

export function heading(title: string): string[] {
  return ["", title, "=".repeat(title.length)];
}
