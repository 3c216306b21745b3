import type { Db } from "../db/database.ts";
import { pgPool } from "../db/postgres-db.ts";
import { writeCallBatch } from "./pg-insert.ts";
import type { BatchWriter } from "./recorder.ts";

// The recorder's batches on PostgreSQL: each batch checks out a connection of the recorder's own
// pool (the writer thread gives the recorder a pool no job or metrics read uses) and goes in as
// one unnest INSERT plus its bodies, in one transaction (pg-insert.ts). The pool's size is how
// many batches are in flight at once: with two, node encodes the next batch while PostgreSQL
// commits the previous one. The recorder reports their commits in queue order whatever order
// they finish in, and (request_id, created_at) is unique, so a batch retried after its neighbour
// failed writes nothing twice.
// No text index is written beside the calls: on PostgreSQL the error-message search reads
// calls.error_message itself.

export function pgBatchWriter(db: Db, beforeBatch?: () => Promise<void>): BatchWriter {
  const pool = pgPool(db);
  return {
    parallel: Math.max(1, pool.options.max ?? 1),
    async write(batch, price) {
      // Outside the transaction and before the connection is taken: the price check is a read of
      // its own, and holding one connection while waiting for another could deadlock the pool.
      await beforeBatch?.();
      const client = await pool.connect();
      let failure: Error | undefined;
      try {
        // A row that came priced (a replayed row that carries its cost) keeps its cost.
        await writeCallBatch(client, batch, price && ((call) => (call.costNano !== undefined ? call.costNano : price(call))));
      } catch (err) {
        failure = err instanceof Error ? err : new Error(String(err));
        throw err;
      } finally {
        // A connection that failed mid-batch may be half-broken: drop it, the pool opens a new one.
        client.release(failure);
      }
    },
  };
}
