import type pg from "pg";

// calls on PostgreSQL has one partition per UTC month and no default partition (so retention can
// detach old months without blocking inserts), and refuses a row whose month has no partition.
// Months are made ahead of time; a row outside them (a replayed old call, a clock far off) makes
// its month here, and the batch is written again.

/** PostgreSQL's refusal of a row whose month of calls has no partition. */
export function isMissingCallMonth(err: unknown): boolean {
  const e = err as { code?: unknown; message?: unknown } | null;
  return e?.code === "23514" && typeof e.message === "string" && e.message.includes('no partition of relation "calls"');
}

/** Make the month partitions holding these instants (epoch ms), each month once. */
export async function ensureCallMonths(client: pg.ClientBase, instants: readonly number[]): Promise<void> {
  const months = new Set(instants.map((t) => {
    const d = new Date(t);
    return Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), 1);
  }));
  for (const month of months) await client.query("SELECT tollbooth_ensure_calls_partitions($1, 0)", [month]);
}
