// What the writer thread and the serving thread tell each other about spend control. The serving
// thread never reads the database: it gets keys, hard budgets and prices as a snapshot from the
// writer (re-sent within a poll interval of any change, on any instance), and room of each hard
// budget as leases the writer grants in a database transaction.

/** One secret of a tollbooth key, as the serving thread checks it. */
export interface KeyEntry {
  /** SHA-256 of the secret, hex. */
  hash: string;
  keyId: string;
  name: string;
  team: string | null;
  project: string | null;
  /** Models the key may call; null = any. */
  models: string[] | null;
  rpm: number | null;
  tpm: number | null;
  expiresAt: number | null;
  revokedAt: number | null;
  /** When this secret stops working after a rotation (null = current secret). */
  retiresAt: number | null;
}

/** A budget as the serving thread enforces it (only hard budgets are enforced per call). */
export interface BudgetRule {
  id: number;
  scope: "key" | "team" | "project";
  target: string;
  amountNano: number;
  period: "daily" | "weekly" | "monthly";
  timezone: string;
  hard: boolean;
}

export interface SpendSnapshot {
  keys: KeyEntry[];
  budgets: BudgetRule[];
  /** Price in effect when the snapshot was taken: model → [input, output] micro-USD per 1M tokens. */
  prices: Record<string, [number, number]>;
}

/** The serving thread's room of one hard budget in one period. */
export interface LeaseReport {
  budgetId: number;
  periodStart: number;
  periodEnd: number;
  /** Room granted so far minus spend known to be committed in calls (what the lease row holds). */
  held: number;
  /** More room wanted now (0: a heartbeat, or room handed back when held went down). */
  want: number;
}

export interface SpendReport {
  id: number;
  leases: LeaseReport[];
  /** Tollbooth keys used since the last report: [key id, last use]. */
  keysUsed: Array<[string, number]>;
}

export interface LeaseGrant {
  budgetId: number;
  periodStart: number;
  /** Added to the room: 0 when the budget has no room left (or is gone). */
  granted: number;
  /** Room other live processes hold: when 0 and nothing was granted, waiting cannot help. */
  othersHeld: number;
}

export type SpendUpdate = { type: "snapshot"; snapshot: SpendSnapshot } | { type: "grants"; reportId: number; grants: LeaseGrant[] };
