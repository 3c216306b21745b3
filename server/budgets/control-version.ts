import { sql } from "drizzle-orm";
import type { Db } from "../db/open.ts";

// One counter in job_state that every change of keys or budgets bumps, in any process. Each
// writer thread polls it (one indexed read) and re-sends its serving thread the snapshot when it
// moved, so a revoke made through any instance's /api reaches every instance within a poll.

const SPEND_CONTROL_VERSION = "spend_control_version";

export async function bumpControlVersion(db: Db): Promise<void> {
  await db.run(sql`INSERT INTO job_state (name, value) VALUES (${SPEND_CONTROL_VERSION}, 1) ON CONFLICT (name) DO UPDATE SET value = job_state.value + 1`);
}

export async function readControlVersion(db: Db): Promise<number> {
  const row = await db.get<{ value: number }>(sql`SELECT value FROM job_state WHERE name = ${SPEND_CONTROL_VERSION}`);
  return Number(row?.value ?? 0);
}
