import type { Db } from "../../db/database.ts";
import { sqliteClient } from "../../db/sqlite.ts";
import type Database from "better-sqlite3";
import { BUCKET_START_SQL, DIMENSION_SQL, MEASURE_SQL, type DimensionColumn } from "./bucket-row-sql.ts";

// The fresh tail (calls past the rollup watermark) summed per 15-minute bucket and every
// dimension, kept per database connection and brought up to date incrementally: each usage query
// reads only the calls recorded since the previous query, not the whole tail. Summing a 100k-call
// tail from raw rows costs one GROUP BY over 100k rows per query and per top-N list (~0.1–0.5 s of
// CPU on 2 shared cores); from this cache, a pass over its entries (one per bucket and
// combination of values, at most one per call, or a coarser memoised view of them keyed by the
// query's dimensions and filters only) in JS, its result handed to the usage SQL as JSON.
//
// Valid because calls past the watermark are append-only: ids are AUTOINCREMENT (never reused),
// retention deletes only calls at or below the watermark, and a reprice rolls everything up in
// the same transaction before it changes a call (so the watermark moves and the cache starts
// over). The cache is rebuilt whenever the watermark moves, and read inside the usage query's
// read transaction, so it covers exactly the calls past the watermark of that snapshot.
//
// Exact: sums are JS numbers only while the tail's grand total of every measure stays a safe
// integer (values are non-negative, so every partial sum is below it); otherwise, or with a
// negative value, freshTail returns null and the query sums the raw calls in SQL instead.

/** Dimensions of an entry, in this order (the rollup_every_dim_15m columns). */
const TAIL_DIMENSIONS: readonly DimensionColumn[] = ["model", "key_id", "team", "project", "user", "status_class"];
const MEASURES = ["requests", "errors", "prompt_tokens", "completion_tokens", "cost_nano", "unpriced_requests", "duration_ms_sum"] as const;
const COST = MEASURES.indexOf("cost_nano");
const REQUESTS = MEASURES.indexOf("requests");
/** Beyond this many entries the cache is dropped and the query sums raw calls (bounded memory). */
const MAX_ENTRIES = 1_000_000;

// One GROUP BY over the new calls: bucket, the six dimensions, the seven sums, and the smallest
// value of each measure (a negative one would make the safe-integer check unsound).
const INGEST_SQL = `SELECT ${BUCKET_START_SQL}, ${TAIL_DIMENSIONS.map((d) => DIMENSION_SQL[d]).join(", ")},
  ${MEASURES.map((m) => `SUM(${MEASURE_SQL[m]})`).join(", ")}, MIN(${MEASURES.map((m) => `MIN(${MEASURE_SQL[m]})`).join(", ")})
  FROM calls WHERE id > ? AND id <= ? GROUP BY ${[1, ...TAIL_DIMENSIONS.map((_, i) => i + 2)].join(", ")}`;

class Dictionary {
  readonly ids = new Map<string, number>();
  readonly values: string[] = [];
  id(value: string): number {
    let id = this.ids.get(value);
    if (id === undefined) {
      id = this.values.length;
      this.values.push(value);
      this.ids.set(value, id);
    }
    return id;
  }
}

/** Entries as parallel arrays: bucket, dimension value ids (by TAIL_DIMENSIONS index), sums. */
interface TailEntries {
  bucket: number[];
  /** Only the dimensions the entries are keyed by are filled (all of them in FreshTail). */
  dims: number[][];
  sums: number[][];
}

/** The cached tail of one connection: entries keyed by bucket and every dimension, values interned. */
export class FreshTail implements TailEntries {
  watermark: number;
  /** Highest call id summed in. */
  upTo: number;
  exact = true;
  readonly index = new Map<string, number>();
  readonly bucket: number[] = [];
  readonly dims: number[][] = TAIL_DIMENSIONS.map(() => []);
  readonly dictionaries = TAIL_DIMENSIONS.map(() => new Dictionary());
  readonly sums: number[][] = MEASURES.map(() => []);
  readonly totals: number[] = MEASURES.map(() => 0);

  constructor(watermark: number) {
    this.watermark = watermark;
    this.upTo = watermark;
  }

  /** Coarser views (summed over the dimensions a query does not name), until the next ingest. */
  private readonly views = new Map<string, TailEntries>();

  get size(): number {
    return this.bucket.length;
  }

  /**
   * The entries summed per bucket and `columns` only (memoised until new calls come in): a page
   * asks several queries of one snapshot, and by model or team a 100k-call hour is a few dozen
   * entries instead of ~28,000.
   */
  view(columns: readonly number[]): TailEntries {
    const keyed = [...new Set(columns)].sort();
    if (keyed.length === TAIL_DIMENSIONS.length) return this;
    const name = keyed.join(",");
    const cached = this.views.get(name);
    if (cached) return cached;
    const v: TailEntries = { bucket: [], dims: TAIL_DIMENSIONS.map(() => []), sums: MEASURES.map(() => []) };
    const index = new Map<string, number>();
    for (let i = 0; i < this.bucket.length; i++) {
      let key = String(this.bucket[i]);
      for (const c of keyed) key += `|${this.dims[c]![i]}`;
      let j = index.get(key);
      if (j === undefined) {
        j = v.bucket.length;
        index.set(key, j);
        v.bucket.push(this.bucket[i]!);
        for (const c of keyed) v.dims[c]!.push(this.dims[c]![i]!);
        for (const sums of v.sums) sums.push(0);
      }
      for (let m = 0; m < MEASURES.length; m++) v.sums[m]![j]! += this.sums[m]![i]!;
    }
    this.views.set(name, v);
    return v;
  }

  /** Add the calls with ids in (upTo, maxId]. */
  ingest(client: Database.Database, maxId: number): void {
    this.views.clear();
    const rows = client.prepare(INGEST_SQL).raw().safeIntegers(true).all(this.upTo, maxId) as (bigint | string)[][];
    const n = TAIL_DIMENSIONS.length;
    for (const row of rows) {
      if ((row[1 + n + MEASURES.length] as bigint) < 0n) this.exact = false;
      const bucket = Number(row[0] as bigint);
      const ids = TAIL_DIMENSIONS.map((_, d) => this.dictionaries[d]!.id(row[1 + d] as string));
      const key = `${bucket}|${ids.join("|")}`;
      let i = this.index.get(key);
      if (i === undefined) {
        i = this.bucket.length;
        this.index.set(key, i);
        this.bucket.push(bucket);
        for (const [d, id] of ids.entries()) this.dims[d]!.push(id);
        for (const s of this.sums) s.push(0);
      }
      MEASURES.forEach((_, m) => {
        const value = row[1 + n + m] as bigint;
        if (value > BigInt(Number.MAX_SAFE_INTEGER)) this.exact = false;
        this.sums[m]![i]! += Number(value);
        this.totals[m]! += Number(value);
      });
    }
    if (this.totals.some((t) => !Number.isSafeInteger(t))) this.exact = false;
    this.upTo = maxId;
  }
}

const caches = new WeakMap<Database.Database, FreshTail>();

/**
 * The calls past `watermark` of the current read snapshot, summed per bucket and dimensions, or
 * null when they cannot be summed exactly as JS numbers. Call it inside the query's read
 * transaction, with the watermark read in it.
 */
export function freshTail(db: Db, watermark: number): FreshTail | null {
  const client = sqliteClient(db);
  const maxId = client.prepare("SELECT COALESCE(MAX(id), 0) FROM calls").pluck().get() as number;
  let tail = caches.get(client);
  // A moved watermark, or fewer calls than summed (a restored file): start over.
  if (!tail || tail.watermark !== watermark || maxId < tail.upTo) {
    tail = new FreshTail(watermark);
    caches.set(client, tail);
  }
  if (maxId > tail.upTo) tail.ingest(client, maxId);
  if (!tail.exact || tail.size > MAX_ENTRIES) {
    caches.delete(client);
    return null;
  }
  return tail;
}

/** What a query reads from the tail: [from, to) (bucket-aligned), its filter, its periods. */
export interface TailSelection {
  from: number;
  to: number;
  filter: Partial<Record<DimensionColumn, string>>;
  /** Period starts, ascending and contiguous from `from` (periodsBetween). */
  periodStarts: readonly number[];
}

/**
 * Call `visit` with each entry inside the range and filter and its period (looked up once per
 * bucket: periods are bucket-aligned). A plain loop: it runs over every entry on every query.
 */
function forEachSelected(tail: FreshTail, entries: TailEntries, s: TailSelection, visit: (i: number, p: number) => void): void {
  const filterDims: number[][] = [];
  const filterIds: number[] = [];
  for (const [column, value] of Object.entries(s.filter)) {
    if (value === undefined) continue;
    const d = TAIL_DIMENSIONS.indexOf(column as DimensionColumn);
    const id = tail.dictionaries[d]!.ids.get(value);
    if (id === undefined) return; // no fresh call has that value
    filterDims.push(entries.dims[d]!);
    filterIds.push(id);
  }
  const periodOf = new Map<number, number>();
  const buckets = entries.bucket;
  next: for (let i = 0; i < buckets.length; i++) {
    const b = buckets[i]!;
    if (b < s.from || b >= s.to) continue;
    for (let f = 0; f < filterDims.length; f++) if (filterDims[f]![i] !== filterIds[f]) continue next;
    let p = periodOf.get(b);
    if (p === undefined) {
      p = lastAtOrBefore(s.periodStarts, b);
      periodOf.set(b, p);
    }
    visit(i, p);
  }
}

/** TAIL_DIMENSIONS indexes of the selection's filter columns. */
function filterIndexes(s: TailSelection): number[] {
  return Object.entries(s.filter)
    .filter(([, value]) => value !== undefined)
    .map(([column]) => TAIL_DIMENSIONS.indexOf(column as DimensionColumn));
}

function lastAtOrBefore(starts: readonly number[], t: number): number {
  let lo = 0;
  let hi = starts.length - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (starts[mid]! <= t) lo = mid;
    else hi = mid - 1;
  }
  return lo;
}

/**
 * The tail summed per period and values of `dims`, as JSON rows [p, value…, the seven sums in the
 * rollup_every_dim_15m order] for the usage SQL (json_each).
 */
export function tailGroupsJson(tail: FreshTail, s: TailSelection, dims: readonly DimensionColumn[]): string {
  const ds = dims.map((c) => TAIL_DIMENSIONS.indexOf(c));
  const groups = new Map<number, { p: number; ids: number[]; sums: number[] }>();
  const sizes = ds.map((d) => tail.dictionaries[d]!.values.length + 1);
  const e = tail.view([...ds, ...filterIndexes(s)]);
  forEachSelected(tail, e, s, (i, p) => {
    let key = p;
    for (let k = 0; k < ds.length; k++) key = key * sizes[k]! + e.dims[ds[k]!]![i]!;
    let g = groups.get(key);
    if (!g) groups.set(key, (g = { p, ids: ds.map((d) => e.dims[d]![i]!), sums: MEASURES.map(() => 0) }));
    for (let m = 0; m < MEASURES.length; m++) g.sums[m]! += e.sums[m]![i]!;
  });
  return JSON.stringify([...groups.values()].map((g) => [g.p, ...g.ids.map((id, k) => tail.dictionaries[ds[k]!]!.values[id]!), ...g.sums]));
}

/** The tail's cost and requests per value of `column` in the range and filter, as JSON rows [value, cost, requests]. */
export function tailValuesJson(tail: FreshTail, s: TailSelection, column: DimensionColumn): string {
  const d = TAIL_DIMENSIONS.indexOf(column);
  const perValue = new Map<number, [cost: number, requests: number]>();
  const e = tail.view([d, ...filterIndexes(s)]);
  const dims = e.dims[d]!;
  const cost = e.sums[COST]!;
  const requests = e.sums[REQUESTS]!;
  forEachSelected(tail, e, s, (i) => {
    const v = perValue.get(dims[i]!);
    if (v) {
      v[0] += cost[i]!;
      v[1] += requests[i]!;
    } else perValue.set(dims[i]!, [cost[i]!, requests[i]!]);
  });
  return JSON.stringify([...perValue].map(([id, [cost, requests]]) => [tail.dictionaries[d]!.values[id]!, cost, requests]));
}
