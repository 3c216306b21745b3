import { describe, expect, it } from "vitest";
import * as sqliteSchema from "../../server/db/schema.ts";
import * as pgSchema from "../../server/db/schema-pg.ts";
import { describeSchema, type TableShape } from "./schema-shape.ts";

// The SQLite schema and its PostgreSQL twin must hold the same tables, columns, types, defaults,
// keys and indexes. The differences PostgreSQL needs are listed here, each with its reason; any
// other difference (a column added to one schema only, an index renamed, a type changed) fails.

/** PostgreSQL's integer is 32-bit: only these per-call figures may use it (see schema-pg.ts). */
const INT32_COLUMNS = new Set([
  "calls.status",
  "calls.prompt_tokens",
  "calls.completion_tokens",
  "calls.total_tokens",
  "calls.duration_ms",
  "calls.ttft_ms",
  "report_deliveries.attempts",
]);

/** The SQLite shape with PostgreSQL's deliberate differences applied. */
function expectedOnPostgres(sqlite: Record<string, TableShape>): Record<string, TableShape> {
  const pg = structuredClone(sqlite);
  const calls = pg.calls!;
  // calls is partitioned by month of created_at: a partitioned table's primary key and unique
  // indexes must include the partition key.
  calls.primaryKey = ["id", "created_at"];
  calls.indexes.calls_request_id_uq!.columns = ["request_id", "created_at"];
  // The commit order of rows for the rollup watermark with several writers.
  calls.columns.commit_xid = { type: "integer", notNull: true, autoIncrement: false, default: "sql" };
  calls.indexes.calls_commit_xid_idx = { columns: ["commit_xid"], unique: false };
  // Text search over messages: SQLite's is the FTS5 table calls_error_fts (a virtual table, which
  // Drizzle does not declare), PostgreSQL's a pg_trgm GIN index on the column.
  calls.indexes.calls_error_message_trgm_idx = { columns: ["error_message"], unique: false, where: "error_message IS NOT NULL" };
  // SQLite's index of failures carries the message, for short searches; a PostgreSQL B-tree
  // entry could not hold a long one (schema-pg.ts), and pg_trgm serves those searches there.
  calls.indexes.calls_failed_created_idx!.columns = ["created_at", "id"];
  // A foreign key to a partitioned table must name its whole primary key (id, created_at).
  pg.call_bodies!.foreignKeys = [];
  return pg;
}

/** The shape without PostgreSQL's integer widths (SQLite has one integer). */
function withoutWidths(shape: Record<string, TableShape>): Record<string, TableShape> {
  const copy = structuredClone(shape);
  for (const table of Object.values(copy)) for (const column of Object.values(table.columns)) delete column.bits;
  return copy;
}

describe("schema parity (server/db/schema.ts vs schema-pg.ts)", () => {
  const sqlite = describeSchema(sqliteSchema, "sqlite");
  const pg = describeSchema(pgSchema, "pg");

  it("reads every table of both schemas", () => {
    expect(Object.keys(sqlite).length).toBeGreaterThanOrEqual(19);
    expect(sqlite.calls?.indexes.calls_failed_created_idx?.where).toBe("status >= 400 OR error_type IS NOT NULL");
  });

  it("has the same tables, columns, types, defaults, keys and indexes, bar PostgreSQL's listed differences", () => {
    expect(withoutWidths(pg)).toEqual(expectedOnPostgres(sqlite));
  });

  it("uses 64-bit integers on PostgreSQL for everything but small per-call figures", () => {
    const int32 = Object.entries(pg).flatMap(([table, shape]) =>
      Object.entries(shape.columns)
        .filter(([, c]) => c.bits === 32)
        .map(([column]) => `${table}.${column}`),
    );
    expect(int32.sort()).toEqual([...INT32_COLUMNS].sort());
  });
});
