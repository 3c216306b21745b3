import { DIMENSION_SQL, type DimensionColumn } from "./bucket-row-sql.ts";

// The pairs of dimensions the two-dimension rollups hold (rollup_two_dims_hour and _daily, see
// schema.ts) and their names. A pair is two distinct dimension columns in the canonical order of
// DIMENSION_SQL, so "team × model" and "model × team" are one pair, "model,team", and the rollup,
// the migration that backfilled it (0010) and the usage query agree on the name and on which
// value is `a`.

/** The dimension columns in canonical order. */
export const DIMS = Object.keys(DIMENSION_SQL) as DimensionColumn[];

/** Two distinct dimension columns, canonical order: [a, b]. */
export type DimensionPair = readonly [a: DimensionColumn, b: DimensionColumn];

/** All 15 pairs of the six dimensions. */
export const PAIRS: readonly DimensionPair[] = DIMS.flatMap((a, i) => DIMS.slice(i + 1).map((b): DimensionPair => [a, b]));

/** The value of the `pair` column, e.g. "key_id,user". */
export function pairName(pair: DimensionPair): string {
  return `${pair[0]},${pair[1]}`;
}

/** The pair of two distinct columns given in either order. */
export function pairOf(x: DimensionColumn, y: DimensionColumn): DimensionPair {
  if (x === y) throw new Error(`a pair needs two distinct dimensions, got ${x} twice`);
  return DIMS.indexOf(x) < DIMS.indexOf(y) ? [x, y] : [y, x];
}
