import type pg from "pg";
import { BUCKET_START_SQL, DIMENSION_SQL, MEASURE_SQL, col, type DimensionColumn, type MeasureColumn } from "../bucket-row-sql.ts";
import type { XidRange } from "./commit-watermark.ts";

// The PostgreSQL rollup of a commit_xid range into rollup_every_dim_15m (15 minutes, every dimension),
// from the same per-call SQL as the SQLite rollup (bucket-row-sql.ts), so a call counts the same
// on either engine. Only the finest all-dimensions level for now: the coarser levels and the
// other families follow the same delta-then-upsert path as on SQLite. The SET names the table
// in every column it reads (rollup_every_dim_15m.requests + excluded.requests): PostgreSQL rejects a
// bare `requests` there as ambiguous, where SQLite takes it for the table's.
// The SQL is built from fixed strings only (column names), never from input.

const DIMS = Object.keys(DIMENSION_SQL) as DimensionColumn[];
const MEASURES = Object.keys(MEASURE_SQL) as MeasureColumn[];
const KEYS = ["bucket_start", ...DIMS].map(col);

const ADD_RANGE_SQL = `INSERT INTO rollup_every_dim_15m (${[...KEYS, ...MEASURES.map(col)].join(", ")})
  SELECT ${BUCKET_START_SQL}, ${DIMS.map((d) => DIMENSION_SQL[d]).join(", ")}, ${MEASURES.map((m) => `SUM(${MEASURE_SQL[m]})`).join(", ")}
  FROM calls WHERE commit_xid >= $1 AND commit_xid < $2
  GROUP BY ${KEYS.map((_, i) => i + 1).join(", ")}
  ON CONFLICT (${KEYS.join(", ")}) DO UPDATE SET ${MEASURES.map((m) => `${col(m)} = rollup_every_dim_15m.${col(m)} + excluded.${col(m)}`).join(", ")}`;

/** Add the calls in `range` onto rollup_every_dim_15m; returns how many calls that was. */
export async function addRangeToBuckets(client: pg.ClientBase, range: XidRange): Promise<number> {
  const count = await client.query<{ n: number }>("SELECT COUNT(*) AS n FROM calls WHERE commit_xid >= $1 AND commit_xid < $2", [range.from, range.to]);
  if (count.rows[0]!.n === 0) return 0;
  await client.query(ADD_RANGE_SQL, [range.from, range.to]);
  return count.rows[0]!.n;
}
