import { getTableColumns } from "drizzle-orm";
import type pg from "pg";
import { from as copyFrom } from "pg-copy-streams";
import { calls } from "../server/db/schema-pg.ts";
import type { CallRecord } from "../server/recorder/recorder.ts";

// The two ways bench/pg-insert-main.ts compares with the recorder's own batch write
// (server/recorder/pg-insert.ts: INSERT … SELECT FROM unnest($1::text[], …), one array parameter
// per column), each in one transaction with ON CONFLICT DO NOTHING on the unique key (a replayed
// row must never be written twice, so a plain COPY into calls is not an option) and RETURNING the
// ids of the rows written (their bodies need them):
//   values: one INSERT … VALUES ($1, …), (…), … with a parameter per value;
//   copy:   COPY into a temp staging table, then INSERT … SELECT from it.
// The benchmark hands every method calls without bodies: the recorder writes bodies the same way
// (one unnest INSERT after the calls) whichever method writes the calls.

export type BatchWriter = (client: pg.ClientBase, batch: CallRecord[]) => Promise<number>;

type CallRow = CallRecord["call"];
const COLUMNS = Object.entries(getTableColumns(calls)).filter(([key]) => key !== "id" && key !== "commitXid");
const NAMES = COLUMNS.map(([, c]) => `"${c.name}"`).join(", ");
const KEYS = COLUMNS.map(([key]) => key as keyof CallRow);
const CONFLICT = `ON CONFLICT (request_id, created_at) DO NOTHING RETURNING id`;

function value(row: CallRow, key: keyof CallRow): unknown {
  const v = row[key];
  return v === undefined ? null : v;
}

async function inTransaction(client: pg.ClientBase, work: () => Promise<number>): Promise<number> {
  await client.query("BEGIN");
  const n = await work();
  await client.query("COMMIT");
  return n;
}

export const valuesWriter: BatchWriter = (client, batch) =>
  inTransaction(client, async () => {
    const params: unknown[] = [];
    const tuples = batch.map(({ call }) => `(${KEYS.map((k) => `$${params.push(value(call, k))}`).join(", ")})`);
    const r = await client.query(`INSERT INTO calls (${NAMES}) VALUES ${tuples.join(", ")} ${CONFLICT}`, params);
    return r.rowCount ?? 0;
  });

/** A value in COPY's text format: \N for null, backslash escapes for the separators. */
function copyText(v: unknown): string {
  if (v === null || v === undefined) return "\\N";
  if (typeof v === "boolean") return v ? "t" : "f";
  if (typeof v === "number") return String(v);
  return String(v).replace(/[\\\t\n\r]/g, (c) => (c === "\\" ? "\\\\" : c === "\t" ? "\\t" : c === "\n" ? "\\n" : "\\r"));
}

export const copyWriter: BatchWriter = (client, batch) =>
  inTransaction(client, async () => {
  await client.query(`CREATE TEMP TABLE IF NOT EXISTS calls_staging (LIKE calls INCLUDING DEFAULTS) ON COMMIT DELETE ROWS`);
  const text = batch.map(({ call }) => KEYS.map((k) => copyText(call[k])).join("\t")).join("\n") + "\n";
  await new Promise<void>((resolve, reject) => {
    const stream = client.query(copyFrom(`COPY calls_staging (${NAMES}) FROM STDIN`));
    stream.on("finish", resolve);
    stream.on("error", reject);
    stream.end(text);
  });
  const r = await client.query(`INSERT INTO calls (${NAMES}) SELECT ${NAMES} FROM calls_staging ${CONFLICT}`);
  return r.rowCount ?? 0;
  });
