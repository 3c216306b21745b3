import { BUCKET_MS, ceilTo, floorToBucket } from "../time.ts";

// A usage range may start and end at any millisecond (a script's `date -u +%FT%TZ`, a call's own
// created_at). Rollups hold whole 15-minute buckets, so the answer is the whole buckets inside the
// range from the rollups plus the two partial buckets at its edges from raw calls. Retention
// deletes raw calls of whole buckets before its horizon; an edge in such a bucket cannot be cut
// from calls that no longer exist, so that bound is rounded outward to its bucket edge, and the
// answer says so.

export interface InstantRange {
  /** The range answered: the range asked, or wider where an edge was rounded outward. */
  from: number;
  to: number;
  /** True when from or to was rounded outward (raw calls at that edge were deleted by retention). */
  rounded: boolean;
  /** The whole buckets inside [from, to): rollups (and the fresh tail) serve these. */
  innerFrom: number;
  innerTo: number;
}

/**
 * Split [from, to) into whole buckets and raw-call edges. `horizon` is the retention horizon
 * (bucket-aligned; raw calls before it may be gone). When from and to share a bucket the inner
 * range is empty (innerFrom = innerTo = to) and the whole range is one edge.
 */
export function splitInstantRange(asked: { from: number; to: number }, horizon: number): InstantRange {
  let { from, to } = asked;
  let rounded = false;
  if (from % BUCKET_MS !== 0 && floorToBucket(from) < horizon) {
    from = floorToBucket(from);
    rounded = true;
  }
  if (to % BUCKET_MS !== 0 && floorToBucket(to) < horizon) {
    to = ceilTo(to, BUCKET_MS);
    rounded = true;
  }
  const innerFrom = Math.min(ceilTo(from, BUCKET_MS), to);
  const innerTo = Math.max(floorToBucket(to), innerFrom);
  return { from, to, rounded, innerFrom, innerTo };
}
