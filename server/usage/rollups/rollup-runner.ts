// How one engine runs the rollup's statements. The statements themselves (rollup-deltas.ts,
// buckets.ts) are the same text on SQLite and PostgreSQL; what differs is kept behind this
// interface, one implementation per dialect (sqlite-rollup-runner.ts, postgres/rollup-runner.ts):
// the scratch tables' names and DDL (SQLite's temp schema, PostgreSQL's pg_temp with ON COMMIT
// DELETE ROWS, whose rows autovacuum would never clean up) and how `?` parameters are bound.

export type RollupParam = number | string;

export interface RollupRunner {
  /** A session-private scratch table's name, e.g. temp.rollup_delta or pg_temp.rollup_delta. */
  scratch(name: string): string;
  /** DDL creating scratch table `table` (from scratch()) with these column definitions, if missing. */
  createScratch(table: string, columns: string): string;
  /** DDL creating scratch table `table` with the columns of scratch table `like`, if missing. */
  createScratchLike(table: string, like: string): string;
  /** The 64-bit integer column type. */
  readonly integer: string;
  /** Run one statement, its `?` placeholders bound to `params` in order. */
  run(text: string, params?: readonly RollupParam[]): Promise<void>;
  /** The first column of the first row of a statement, as a number (0 when there is no row). */
  number(text: string, params?: readonly RollupParam[]): Promise<number>;
}
