import type Database from "better-sqlite3";
import { openDatabase } from "../server/db/open.ts";
import { sqliteClient } from "../server/db/sqlite.ts";
import { createLogger } from "../server/log.ts";
import { Recorder, type CallRecord } from "../server/recorder/recorder.ts";
import { PriceBook } from "../server/prices/price-book.ts";
import { median } from "./stats.ts";
import { makeRecords } from "./rows.ts";

// The recorder's sustained write rate, and its baseline: the same rows written by hand with
// cached better-sqlite3 statements in the same batches and transactions (what the recorder
// does, minus Drizzle's per-row query building and the queue). Both databases are real files with the real schema and
// pragmas, written in alternating chunks so machine noise hits both alike. A chunk stands in
// for what piles up between flushes under heavy load.

export interface WriteRate {
  rows: number;
  seconds: number;
  rowsPerSec: number;
  /** Median and slowest chunk, to show whether the rate holds as the table grows. */
  medianChunkRate: number;
  minChunkRate: number;
}

const BATCH = 500; // RECORDER_BATCH_SIZE default

const INSERT_CALL = `INSERT INTO calls ("request_id","created_at","model","endpoint","stream","status","error_type","error_message",
  "prompt_tokens","completion_tokens","total_tokens","usage_source","duration_ms","ttft_ms","key_id","team","project","user",
  "upstream_request_id","cost_nano") VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?) ON CONFLICT DO NOTHING`;
const INSERT_BODIES = `INSERT INTO call_bodies ("call_id","request_body","response_body","truncated") VALUES (?,?,?,?)`;

type PriceCall = (call: CallRecord["call"]) => number | null;

function rawWriter(client: Database.Database, price: PriceCall, beforeBatch: () => Promise<void>): (batch: CallRecord[]) => Promise<void> {
  const insertCall = client.prepare(INSERT_CALL);
  const insertBodies = client.prepare(INSERT_BODIES);
  const write = client.transaction((batch: CallRecord[]) => {
    for (const { call: c, bodies } of batch) {
      // run() + lastInsertRowid rather than RETURNING id: same result (changes = 0 on a
      // duplicate), and RETURNING alone measured ~1.8× slower per row here.
      const info = insertCall.run(
        c.requestId, c.createdAt, c.model ?? null, c.endpoint, c.stream ? 1 : 0, c.status, c.errorType ?? null, c.errorMessage ?? null,
        c.promptTokens ?? null, c.completionTokens ?? null, c.totalTokens ?? null, c.usageSource, c.durationMs, c.ttftMs ?? null,
        c.keyId ?? null, c.team ?? null, c.project ?? null, c.user ?? null, c.upstreamRequestId ?? null, c.costNano ?? price(c),
      );
      if (info.changes > 0 && bodies) insertBodies.run(info.lastInsertRowid, bodies.request, bodies.response, bodies.truncated ? 1 : 0);
    }
  });
  // The catalog check the recorder makes per batch, just before the batch's transaction here.
  return async (batch) => {
    await beforeBatch();
    write(batch);
  };
}

function summarise(rows: number, chunkSeconds: number[], chunkSize: number): WriteRate {
  const seconds = chunkSeconds.reduce((a, b) => a + b, 0);
  const rates = chunkSeconds.map((s) => chunkSize / s);
  return { rows, seconds, rowsPerSec: rows / seconds, medianChunkRate: median(rates), minChunkRate: Math.min(...rates) };
}

export async function measureRecorderRate(dir: string, total: number, chunk: number): Promise<{ raw: WriteRate; recorder: WriteRate }> {
  const rawDb = openDatabase(`${dir}/raw.db`);
  const recDb = openDatabase(`${dir}/recorder.db`);
  // Both sides price every row with the seeded catalog, reloaded once per batch, as start.ts
  // wires the recorder.
  const rawPrices = new PriceBook(rawDb);
  const writeRaw = rawWriter(sqliteClient(rawDb), (c) => rawPrices.costOf(c), () => rawPrices.refresh());
  const recPrices = new PriceBook(recDb);
  const recorder = new Recorder(recDb, {
    batchSize: BATCH,
    flushMs: 50,
    log: createLogger("error"),
    priceCall: (c) => recPrices.costOf(c),
    beforeBatch: () => recPrices.refresh(),
  });
  const rawTimes: number[] = [];
  const recTimes: number[] = [];
  const chunks = Math.max(1, Math.floor(total / chunk));

  for (let i = 0; i < chunks; i++) {
    const records = makeRecords(chunk, Date.now() + i * chunk);
    const runRaw = async () => {
      const t0 = performance.now();
      for (let b = 0; b < records.length; b += BATCH) await writeRaw(records.slice(b, b + BATCH));
      rawTimes.push((performance.now() - t0) / 1000);
    };
    const runRecorder = async () => {
      const t0 = performance.now();
      for (const r of records) recorder.enqueue(r);
      if (!(await recorder.flush(true))) throw new Error("recorder flush failed");
      recTimes.push((performance.now() - t0) / 1000);
    };
    const order = i % 2 === 0 ? [runRaw, runRecorder] : [runRecorder, runRaw];
    for (const run of order) await run();
  }

  const count = (db: typeof rawDb) => (sqliteClient(db).prepare("SELECT count(*) AS n FROM calls").get() as { n: number }).n;
  const written = chunks * chunk;
  const priced = (db: typeof rawDb) => (sqliteClient(db).prepare("SELECT count(*) AS n FROM calls WHERE cost_nano IS NOT NULL").get() as { n: number }).n;
  if (priced(recDb) !== priced(rawDb) || priced(recDb) === 0) throw new Error(`priced rows differ: raw ${priced(rawDb)}, recorder ${priced(recDb)}`);
  if (count(rawDb) !== written || count(recDb) !== written) {
    throw new Error(`row count mismatch: raw ${count(rawDb)}, recorder ${count(recDb)}, expected ${written}`);
  }
  await rawDb.close();
  await recDb.close();
  return { raw: summarise(written, rawTimes, chunk), recorder: summarise(written, recTimes, chunk) };
}
