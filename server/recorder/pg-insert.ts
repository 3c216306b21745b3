import { getTableColumns, type Table } from "drizzle-orm";
import type pg from "pg";
import { callBodies, calls } from "../db/schema-pg.ts";
import { ensureCallMonths, isMissingCallMonth } from "./pg-call-months.ts";
import type { CallRecord } from "./recorder.ts";

// The recorder's batch write into PostgreSQL: every call of a batch in one
// INSERT … SELECT FROM unnest($1::text[], $2::bigint[], …), one array parameter per column, and
// their bodies likewise. bench/pg-insert-main.ts measured it against a multi-row INSERT … VALUES
// with a parameter per value and against COPY into a staging table then INSERT … SELECT: unnest
// costs the same CPU per row as COPY (~24 µs node + backend, with every index of calls) and ~1.5×
// less than VALUES, in one statement with no staging table or extra dependency. A plain COPY into
// calls is not an option: it has no ON CONFLICT, and a replayed batch must write nothing twice.
// A batch is one statement, and so its own transaction, with no BEGIN and COMMIT: the bodies go
// in through a second INSERT in a WITH clause of the first, joined to the calls it wrote by
// request_id. Each round trip costs the recorder's thread and its backend about as much as a few
// rows do, and at a few hundred calls/s per instance a batch holds only tens of rows.
// The SQL is built from the Drizzle tables' column names only, never from input.

type Row = Record<string, unknown>;

interface ArrayInsert {
  sql: string;
  keys: string[];
  /** Each column's Drizzle default: an array parameter has no "unset", so unset values take it here. */
  defaults: unknown[];
}

/** INSERT … SELECT FROM unnest(…) over `table`'s columns but `skip`, typed from the schema. */
function arrayInsert(table: Table, name: string, skip: string[], tail: string): ArrayInsert {
  const columns = Object.entries(getTableColumns(table)).filter(([key]) => !skip.includes(key));
  const names = columns.map(([, c]) => `"${c.name}"`).join(", ");
  const arrays = columns.map(([, c], i) => `$${i + 1}::${c.getSQLType()}[]`).join(", ");
  return {
    sql: `INSERT INTO "${name}" (${names}) SELECT * FROM unnest(${arrays}) ${tail}`,
    keys: columns.map(([key]) => key),
    defaults: columns.map(([, c]) => c.default ?? null),
  };
}

// id and commit_xid come from their defaults (the sequence, the inserting transaction).
const INSERT_CALLS = arrayInsert(calls, "calls", ["id", "commitXid"], "ON CONFLICT (request_id, created_at) DO NOTHING");
const BODY_COLUMNS = Object.entries(getTableColumns(callBodies)).filter(([key]) => key !== "callId");
/** The calls, then the bodies of those written (a replayed call already stored gets none); answers how many calls were written. */
const INSERT_CALLS_AND_BODIES = (() => {
  const n = INSERT_CALLS.keys.length;
  const bodyNames = BODY_COLUMNS.map(([, c]) => `"${c.name}"`).join(", ");
  const bodyArrays = BODY_COLUMNS.map(([, c], i) => `$${n + 2 + i}::${c.getSQLType()}[]`).join(", ");
  return (
    `WITH written AS (${INSERT_CALLS.sql} RETURNING id, request_id), ` +
    `bodies AS (INSERT INTO "call_bodies" ("call_id", ${bodyNames}) SELECT w.id, ${BODY_COLUMNS.map(([, c]) => `b."${c.name}"`).join(", ")} ` +
    `FROM unnest($${n + 1}::text[], ${bodyArrays}) AS b("request_id", ${bodyNames}) JOIN written w USING ("request_id")) ` +
    `SELECT COUNT(*)::int AS n FROM written`
  );
})();

/** One array per column, in `insert.keys` order; an unset value takes the column's default, else null. */
function columnArrays(insert: ArrayInsert, rows: Row[]): unknown[][] {
  return insert.keys.map((key, i) => rows.map((row) => (row[key] === undefined ? insert.defaults[i] : row[key])));
}

/**
 * Write a batch of calls (and their bodies) in one statement on `client`, pricing each with
 * `priceCall` when given (nano-USD, null = unpriced). A call whose (request_id, created_at) is
 * already stored is skipped with its bodies, so a retried or replayed batch writes nothing twice.
 * Returns how many calls were written.
 */
export async function writeCallBatch(client: pg.ClientBase, batch: readonly CallRecord[], priceCall?: (call: CallRecord["call"]) => number | null): Promise<number> {
  try {
    return await writeOnce(client, batch, priceCall);
  } catch (err) {
    // A call of a month with no partition yet: make it, and write the batch again.
    if (!isMissingCallMonth(err)) throw err;
    await ensureCallMonths(client, batch.map((r) => r.call.createdAt));
    return writeOnce(client, batch, priceCall);
  }
}

async function writeOnce(client: pg.ClientBase, batch: readonly CallRecord[], priceCall?: (call: CallRecord["call"]) => number | null): Promise<number> {
  if (batch.length === 0) return 0;
  const rows = batch.map(({ call }) => (priceCall ? { ...call, costNano: priceCall(call) } : call) as Row);
  const arrays = columnArrays(INSERT_CALLS, rows);
  const withBodies = batch.filter((r) => r.bodies);
  if (withBodies.length === 0) return (await client.query(INSERT_CALLS.sql, arrays)).rowCount ?? 0;
  const bodyRows: Row[] = withBodies.map(({ bodies: b }) => ({ requestBody: b!.request, responseBody: b!.response, truncated: b!.truncated }));
  const bodyArrays = BODY_COLUMNS.map(([key, c]) => bodyRows.map((row) => (row[key] === undefined ? (c.default ?? null) : row[key])));
  const written = await client.query<{ n: number }>(INSERT_CALLS_AND_BODIES, [...arrays, withBodies.map((r) => r.call.requestId), ...bodyArrays]);
  return written.rows[0]!.n;
}
