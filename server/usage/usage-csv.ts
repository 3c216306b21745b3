import type { Context } from "hono";
import { MEASURE_FIELDS, type UsageJson } from "./usage-json.ts";
import type { KeyNames } from "../keys/key-names-store.ts";
import { csvFileName } from "./csv-file-name.ts";

// GET /api/usage.csv: the JSON rows as RFC 4180 CSV (CRLF line ends, quotes doubled), one column
// per group_by key then the measures. Money stays a plain decimal string ("12.345678901").

/**
 * Spreadsheets run a cell that starts with = + - @ (or tab / CR, which some strip first) as a
 * formula (OWASP "CSV injection"); team, project and user names come from request headers, so a
 * leading ' makes such a cell plain text.
 */
export function neutraliseCell(value: string): string {
  return /^[=+\-@\t\r]/.test(value) ? `'${value}` : value;
}

/** One RFC 4180 field: quoted when it holds a quote, comma or line break. */
export function quote(value: string): string {
  return /[",\r\n]/.test(value) ? `"${value.replaceAll('"', '""')}"` : value;
}

export function usageCsv(report: UsageJson, names: KeyNames = new Map()): string {
  // A key column is followed by the key's name (empty when it has none).
  const columns = report.group_by.flatMap((key) => (key === "key" ? ["key", "key_name"] : [key]));
  const header = [...columns, ...MEASURE_FIELDS];
  const lines = [header.map(quote).join(",")];
  for (const row of report.rows) {
    const cell = (column: string) => (column === "key_name" ? (row.group.key ? (names.get(row.group.key) ?? "") : "") : (row.group[column] ?? ""));
    const groupCells = columns.map((column) => neutraliseCell(cell(column)));
    const measureCells = MEASURE_FIELDS.map((f) => String(row[f]));
    lines.push([...groupCells, ...measureCells].map(quote).join(","));
  }
  return lines.join("\r\n") + "\r\n";
}

/** The one CSV answer: /api/usage.csv and the dashboard's /spend/export.csv send the same bytes. */
export function usageCsvResponse(c: Context, report: UsageJson, names: KeyNames = new Map(), prefix: "spend" | "usage" = "usage"): Response {
  return c.body(usageCsv(report, names), 200, {
    "content-type": "text/csv; charset=utf-8; header=present",
    "content-disposition": `attachment; filename="${csvFileName(prefix, report)}"`,
  });
}
