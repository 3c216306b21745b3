import type { Config } from "../config.ts";
import type { CallRecord } from "../recorder/recorder.ts";
import type { SpendReport, SpendUpdate } from "../budgets/spend-messages.ts";

/** workerData of the writer thread. */
export interface WriterData {
  config: Config;
  journalDir: string;
  /** The serving process's own journal owner (never replayed while it lives). */
  liveOwner: string;
  clockBuffer: SharedArrayBuffer | null;
}

export type ToWriter =
  /** places: the journal segment and byte offset of each row, two numbers per row (segment -1: not journaled). */
  | { type: "rows"; rows: CallRecord[]; places: number[] }
  | { type: "flush"; id: number }
  /** The writer's Prometheus text, for a scrape of /metrics. */
  | { type: "metrics"; id: number }
  | { type: "close"; graceMs: number }
  | { type: "spend"; report: SpendReport };

/** The writer's view of the database, for /healthz. */
export interface WriterHealth {
  /** The last write (a batch or the idle probe) succeeded. */
  writable: boolean;
  error: string | null;
  /** Journal rows of earlier processes read and waiting to commit. */
  replayPending: number;
  /** The live recorder's queue: rows in memory (and the most so far), its cap, rows waiting in the journal only. */
  recorder: { memoryRows: number; memoryPeakRows: number; memoryMaxRows: number; journalOnlyRows: number };
  at: number;
}

export type FromWriter =
  | { type: "ready" }
  | { type: "fatal"; message: string }
  | { type: "committed"; n: number }
  | { type: "flushed"; id: number; ok: boolean }
  | { type: "metrics"; id: number; text: string }
  | { type: "health"; health: WriterHealth }
  | { type: "closed"; unsaved: number }
  | { type: "spend"; update: SpendUpdate };
