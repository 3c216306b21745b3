import { getTableColumns, type Table } from "drizzle-orm";
import type pg from "pg";
import { callBodies, calls } from "../db/schema-pg.ts";
import { ensureCallMonths, isMissingCallMonth } from "./pg-call-months.ts";
import type { CallRecord } from "./recorder.ts";

// The recorder's batch write into PostgreSQL: every call of a batch in one
// INSERT … SELECT FROM unnest($1::text[], $2::bigint[], …), one array parameter per column, and
// their bodies likewise, in one transaction. bench/pg-insert-main.ts measured it against a
// multi-row INSERT … VALUES with a parameter per value and against COPY into a staging table
// then INSERT … SELECT: unnest costs the same CPU per row as COPY (~24 µs node + backend, with
// every index of calls) and ~1.5× less than VALUES, in one statement with no staging table or
// extra dependency. A plain COPY into calls is not an option: it has no ON CONFLICT, and a
// replayed batch must write nothing twice.
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
const INSERT_CALLS = arrayInsert(calls, "calls", ["id", "commitXid"], "ON CONFLICT (request_id, created_at) DO NOTHING RETURNING id, request_id");
const INSERT_BODIES = arrayInsert(callBodies, "call_bodies", [], "");

/** One array per column, in `insert.keys` order; an unset value takes the column's default, else null. */
function columnArrays(insert: ArrayInsert, rows: Row[]): unknown[][] {
  return insert.keys.map((key, i) => rows.map((row) => (row[key] === undefined ? insert.defaults[i] : row[key])));
}

/**
 * Write a batch of calls (and their bodies) in one transaction on `client`, pricing each with
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
  await client.query("BEGIN");
  try {
    const written = await client.query<{ id: number; request_id: string }>(INSERT_CALLS.sql, columnArrays(INSERT_CALLS, rows));
    const withBodies = batch.filter((r) => r.bodies);
    if (withBodies.length > 0 && written.rows.length > 0) {
      const ids = new Map(written.rows.map((r) => [r.request_id, Number(r.id)]));
      const bodies: Row[] = [];
      for (const { call, bodies: b } of withBodies) {
        const callId = ids.get(call.requestId);
        if (callId !== undefined) bodies.push({ callId, requestBody: b!.request, responseBody: b!.response, truncated: b!.truncated });
      }
      if (bodies.length > 0) await client.query(INSERT_BODIES.sql, columnArrays(INSERT_BODIES, bodies));
    }
    await client.query("COMMIT");
    return written.rows.length;
  } catch (err) {
    await client.query("ROLLBACK").catch(() => {});
    throw err;
  }
}
