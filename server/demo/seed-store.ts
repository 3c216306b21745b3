import type { Db } from "../db/database.ts";
import type { CallRecord } from "../recorder/recorder.ts";

// Where the demo writes its seeded history, per engine (sqlite-seed.ts, postgres-seed.ts): the
// rows go the way the recorder writes live calls on that engine, priced the same way.

/** What seedHistory writes through: the recorder's enqueue and flush. */
export interface SeedSink {
  enqueue(record: CallRecord): void;
  /** Write everything queued; false when a write failed. */
  flush(force: boolean): Promise<boolean>;
}

export interface SeedStore {
  sink: SeedSink;
  /** After the last flush: make the dashboards read the history at once (roll it up). */
  finish(): Promise<void>;
  close(): Promise<void>;
}

/** The price of a call in nano-USD, or null when its model has none (the recorder's priceCall). */
type PriceCall = (call: CallRecord["call"]) => number | null;

export interface SeedStoreOptions {
  db: Db;
  /** DATABASE_URL, for an engine whose writes take a connection of their own. */
  url: string;
  priceCall: PriceCall;
  /** Before each batch (reload the price catalog). */
  beforeBatch: () => Promise<void>;
}
