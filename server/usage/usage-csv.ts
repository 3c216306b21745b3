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

/** Header and rows as cells (unquoted; group cells already neutralised), for usageCsv and the spend page's CSV. */
export function usageCsvCells(report: UsageJson, names: KeyNames = new Map()): { header: string[]; rows: string[][] } {
  // A key column is followed by the key's name (empty when it has none).
  const columns = report.group_by.flatMap((key) => (key === "key" ? ["key", "key_name"] : [key]));
  const rows = report.rows.map((row) => {
    const cell = (column: string) => (column === "key_name" ? (row.group.key ? (names.get(row.group.key) ?? "") : "") : (row.group[column] ?? ""));
    return [...columns.map((column) => neutraliseCell(cell(column))), ...MEASURE_FIELDS.map((f) => String(row[f]))];
  });
  return { header: [...columns, ...MEASURE_FIELDS], rows };
}

/** Cells to RFC 4180 text: fields quoted where needed, CRLF after every line. */
export function csvText(lines: string[][]): string {
  return lines.map((cells) => cells.map(quote).join(",")).join("\r\n") + "\r\n";
}

export function usageCsv(report: UsageJson, names: KeyNames = new Map()): string {
  const { header, rows } = usageCsvCells(report, names);
  return csvText([header, ...rows]);
}

/** The one CSV answer: /api/usage.csv and the dashboard's /spend/export.csv send the same bytes. */
export function usageCsvResponse(c: Context, report: UsageJson, names: KeyNames = new Map(), prefix: "spend" | "usage" = "usage"): Response {
  return csvResponse(c, usageCsv(report, names), csvFileName(prefix, report));
}

export function csvResponse(c: Context, body: string, filename: string): Response {
  return c.body(body, 200, {
    "content-type": "text/csv; charset=utf-8; header=present",
    "content-disposition": `attachment; filename="${filename}"`,
  });
}
