import type { Db } from "../db/open.ts";

// One counter in job_state that every change of keys or budgets bumps, in any process. Each
// writer thread polls it (one indexed read) and re-sends its serving thread the snapshot when it
// moved, so a revoke made through any instance's /api reaches every instance within a poll.

const SPEND_CONTROL_VERSION = "spend_control_version";

export async function bumpControlVersion(db: Db): Promise<void> {
  db.$client
    .prepare("INSERT INTO job_state (name, value) VALUES (?, 1) ON CONFLICT (name) DO UPDATE SET value = value + 1")
    .run(SPEND_CONTROL_VERSION);
}

export function controlVersionReader(db: Db): () => number {
  const stmt = db.$client.prepare("SELECT value FROM job_state WHERE name = ?").pluck();
  return () => (stmt.get(SPEND_CONTROL_VERSION) as number | undefined) ?? 0;
}
