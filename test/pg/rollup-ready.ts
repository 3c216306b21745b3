import { sql } from "drizzle-orm";
import { runRollup } from "../../jobs/rollup.ts";
import type { Db } from "../../server/db/database.ts";
import { FINISHED_BELOW_SQL } from "../../server/usage/rollups/postgres/commit-watermark.ts";
import { waitFor } from "../harness.ts";

/**
 * Wait until a rollup can take every call committed so far, for tests that count what one run
 * rolls up. On PostgreSQL a rollup takes calls only below the oldest transaction still running
 * anywhere on the server, and the test server is shared by every test file running at once, so
 * another file's open transaction can hold one run to nothing. Once that bound has passed the
 * calls written so far it never falls back (later transactions get higher ids). On SQLite there
 * is one writer and nothing to wait for.
 */
export async function untilRollupCanTakeAll(db: Db): Promise<void> {
  if (db.dialect !== "postgres") return;
  await waitFor(async () => {
    const row = await db.get<{ ready: boolean }>(sql.raw(`SELECT ${FINISHED_BELOW_SQL} > COALESCE(MAX(commit_xid), 0) AS ready FROM calls`));
    return row?.ready === true;
  }, 30_000);
}

/**
 * One rollup run that takes every call written so far: what a test means by "roll up now". A
 * bare runRollup on the shared test PostgreSQL can take fewer (see above), which failed CI runs
 * of tests that counted the calls a run took.
 */
export async function rollUpAll(db: Db, now: number): ReturnType<typeof runRollup> {
  await untilRollupCanTakeAll(db);
  return runRollup(db, now);
}
