import { type Column, getTableName, is, SQL, type Table } from "drizzle-orm";
import { PgDialect, getTableConfig as pgTableConfig, PgTable } from "drizzle-orm/pg-core";
import { SQLiteSyncDialect, getTableConfig as sqliteTableConfig, SQLiteTable } from "drizzle-orm/sqlite-core";

// A dialect-neutral description of a Drizzle schema module (tables, columns, types, keys,
// indexes, foreign keys), read through drizzle's own table config getters, so the SQLite schema
// and its PostgreSQL twin can be compared with one toEqual.

interface ColumnShape {
  /** integer (either width), boolean or text. */
  type: string;
  /** PostgreSQL only: 32 or 64 (SQLite's INTEGER is always 64-bit). */
  bits?: 32 | 64;
  enumValues?: string[];
  notNull: boolean;
  autoIncrement: boolean;
  /** The default: a JSON value, "sql" for an SQL expression, undefined for none. */
  default?: unknown;
}

interface IndexShape {
  columns: string[];
  unique: boolean;
  where?: string;
}

export interface TableShape {
  columns: Record<string, ColumnShape>;
  primaryKey: string[];
  indexes: Record<string, IndexShape>;
  foreignKeys: string[];
}

const SQLITE_TYPES: Record<string, string> = { SQLiteInteger: "integer", SQLiteBoolean: "boolean", SQLiteText: "text" };
const PG_TYPES: Record<string, { type: string; bits?: 32 | 64 }> = {
  PgInteger: { type: "integer", bits: 32 },
  PgBigInt53: { type: "integer", bits: 64 },
  PgBigSerial53: { type: "integer", bits: 64 },
  PgBoolean: { type: "boolean" },
  PgText: { type: "text" },
};

function columnShape(column: Column, dialect: "sqlite" | "pg"): ColumnShape {
  const sqliteType = SQLITE_TYPES[column.columnType];
  const mapped = dialect === "sqlite" ? (sqliteType === undefined ? undefined : { type: sqliteType }) : PG_TYPES[column.columnType];
  if (!mapped) throw new Error(`${column.name}: no mapping for column type ${column.columnType}; add it to test/db/schema-shape.ts`);
  const shape: ColumnShape = {
    ...mapped,
    notNull: column.notNull,
    autoIncrement: column.columnType === "PgBigSerial53" || (column as unknown as { autoIncrement?: boolean }).autoIncrement === true,
  };
  if (column.enumValues) shape.enumValues = [...column.enumValues];
  if (column.hasDefault) shape.default = is(column.default, SQL) ? "sql" : column.default;
  return shape;
}

export function describeSchema(schema: Record<string, unknown>, dialect: "sqlite" | "pg"): Record<string, TableShape> {
  const render = dialect === "sqlite" ? new SQLiteSyncDialect() : new PgDialect();
  const tables: Record<string, TableShape> = {};
  for (const table of Object.values(schema)) {
    if (!is(table, dialect === "sqlite" ? SQLiteTable : PgTable)) continue;
    const config = dialect === "sqlite" ? sqliteTableConfig(table as SQLiteTable) : pgTableConfig(table as PgTable);
    const primaryKey = [
      ...config.columns.filter((c) => c.primary).map((c) => c.name),
      ...config.primaryKeys.flatMap((pk) => pk.columns.map((c) => c.name)),
    ];
    const indexes: Record<string, IndexShape> = {};
    for (const index of config.indexes) {
      const { name, columns, unique, where } = index.config as { name: string; columns: { name?: string }[]; unique: boolean; where?: SQL };
      if (!name) throw new Error(`${config.name}: an index without a name`);
      indexes[name] = {
        columns: columns.map((c) => c.name ?? "<expression>"),
        unique,
        ...(where ? { where: render.sqlToQuery(where).sql } : {}),
      };
    }
    tables[config.name] = {
      columns: Object.fromEntries(config.columns.map((c) => [c.name, columnShape(c, dialect)])),
      primaryKey,
      indexes,
      foreignKeys: config.foreignKeys.map((fk) => {
        const ref = fk.reference();
        return `${ref.columns.map((c) => c.name).join(",")} -> ${getTableName(ref.foreignTable as Table)}(${ref.foreignColumns.map((c) => c.name).join(",")}) on delete ${fk.onDelete ?? "no action"}`;
      }),
    };
  }
  return tables;
}
