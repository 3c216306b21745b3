import pg from "pg";
import { ignoreLostConnections } from "../db/postgres.ts";
import { writeCallBatch } from "../recorder/pg-insert.ts";
import type { CallRecord } from "../recorder/recorder.ts";
import type { SeedStore, SeedStoreOptions } from "./seed-store.ts";

// The demo's seeding on PostgreSQL: batches written as the recorder writes them there
// (writeCallBatch: one INSERT … SELECT FROM unnest per batch, priced per call), on a connection of
// the demo's own. No rollup here: on PostgreSQL that is the server's rollup job, which counts
// every call not yet rolled up when it runs, the seeded history included.

const BATCH = 2_000;

export function postgresSeedStore(opts: SeedStoreOptions): SeedStore {
  const pool = ignoreLostConnections(new pg.Pool({ connectionString: opts.url, max: 1, application_name: "tollbooth-demo-seed" }));
  let queue: CallRecord[] = [];
  const sink = {
    enqueue(record: CallRecord): void {
      queue.push(record);
    },
    async flush(): Promise<boolean> {
      const client = await pool.connect();
      try {
        while (queue.length > 0) {
          const batch = queue.slice(0, BATCH);
          await opts.beforeBatch();
          await writeCallBatch(client, batch, opts.priceCall);
          queue = queue.slice(batch.length);
        }
        return true;
      } finally {
        client.release();
      }
    },
  };
  return { sink, finish: async () => {}, close: () => pool.end() };
}

/**
 * Start the demo's PostgreSQL database over: drop everything tollbooth created in it (its tables,
 * functions, the pg_trgm extension, the migrations' journal), as deleting the SQLite file does;
 * connecting again migrates it afresh. Only a database the demo seeded, or one without calls:
 * `refuse()`'s error otherwise.
 */
export async function resetPostgresDatabase(url: string, seedMarker: string, refuse: () => Error): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const exists = async (table: string) => (await client.query<{ t: string | null }>("SELECT to_regclass($1)::text AS t", [table])).rows[0]!.t !== null;
    const hasCalls = (await exists("public.calls")) && (await client.query("SELECT 1 FROM calls LIMIT 1")).rowCount === 1;
    const isDemo = (await exists("public.job_state")) && (await client.query("SELECT 1 FROM job_state WHERE name = $1", [seedMarker])).rowCount === 1;
    if (hasCalls && !isDemo) throw refuse();
    await client.query("DROP SCHEMA IF EXISTS drizzle CASCADE; DROP SCHEMA public CASCADE; CREATE SCHEMA public");
  } finally {
    await client.end();
  }
}
