import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { holdingBuildLock } from "./build-lock.ts";
import { basename, dirname, join } from "node:path";
import type { Db } from "../server/db/database.ts";
import { openDatabase } from "../server/db/open.ts";
import { sqliteClient } from "../server/db/sqlite.ts";
import { newRequestId } from "../server/proxy/request-id.ts";
import { rollupPending } from "../server/usage/rollups/buckets.ts";
import { PriceBook } from "../server/prices/price-book.ts";
import { prng, type Prng } from "../test/usage/prng.ts";

// The spend benchmark's data set: N calls over 90 days, generated straight into SQLite (one
// prepared INSERT, big transactions, calls' secondary indexes built after the load) and rolled
// up with the real rollup. The file is cached as bench/out/spend-g<version>-<N>.db: bump
// GENERATOR_VERSION whenever what is generated changes, so a stale cache is never measured.
//
// Shape (a mid-size company behind one gateway): 10 models with a long-tailed mix (one of them
// unpriced), 8 teams, 200 users (25 per team), 50 keys owned by teams (a user mostly sends with
// one key of their team), 3 projects per team, 3 % failures (429, 5xx, 400, 499, and errors inside
// 2xx streams), 1 % GET /v1/models (no model, no tokens), 5 % calls without attribution headers.
// Traffic follows the working day (peak 14:00 UTC), weekends at 40 %, growing 50 % over the period.
// Request ids are the proxy's own (time-ordered UUIDv7, server/proxy/request-id.ts).

export const GENERATOR_VERSION = 2;
export const DATA_DAYS = 90;
/** The data set ends here (fixed, so a cached file and a fresh one are the same data). */
export const DATA_END = Date.parse("2026-11-01T00:00:00Z");
export const DATA_START = DATA_END - DATA_DAYS * 86_400_000;

const SLOT_MS = 15 * 60_000;

// Weights sum to 100. The names are seeded prices (migrations/0001) except the last.
export const MODELS: readonly (readonly [name: string, weight: number])[] = [
  ["meta-llama/Llama-3.1-8B-Instruct", 30],
  ["meta-llama/Llama-3.3-70B-Instruct", 18],
  ["Qwen/Qwen2.5-Coder-32B-Instruct", 12],
  ["meta-llama/Llama-4-Scout-17B-16E-Instruct", 10],
  ["Qwen/QwQ-32B", 8],
  ["deepseek-ai/DeepSeek-R1-Distill-Llama-70B", 7],
  ["Qwen/Qwen2.5-Coder-7B-Instruct", 6],
  ["deepseek-ai/DeepSeek-R1-Distill-Qwen-32B", 4],
  ["mistralai/Mixtral-8x22B-Instruct-v0.1", 3],
  ["acme/finetune-unpriced", 2],
];
export const TEAMS = ["search", "ads", "platform", "ml-research", "support", "growth", "infra", "finance"] as const;
const USERS = Array.from({ length: 200 }, (_, i) => ({ name: `user-${String(i).padStart(3, "0")}`, team: i % TEAMS.length }));
const KEYS = Array.from({ length: 50 }, (_, i) => ({ id: `${hex(i * 2654435761, 12)}..${hex(i * 40503 + 7, 4)}`, team: i % TEAMS.length }));
const KEYS_BY_TEAM = TEAMS.map((_, team) => KEYS.filter((k) => k.team === team));
const PROJECTS_PER_TEAM = 3;

function hex(n: number, len: number): string {
  return (Math.abs(Math.imul(n, 2246822519)) >>> 0).toString(16).padStart(8, "0").repeat(2).slice(0, len);
}

/** Cumulative weights → index, for weighted picks in O(log n) from a uniform x in [0, 1). */
function weighted(weights: readonly number[]): (x: number) => number {
  const total = weights.reduce((a, b) => a + b, 0);
  const cumulative: number[] = [];
  let sum = 0;
  for (const w of weights) cumulative.push((sum += w) / total);
  return (x) => {
    let lo = 0;
    let hi = cumulative.length - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (cumulative[mid]! > x) hi = mid;
      else lo = mid + 1;
    }
    return lo;
  };
}

const pickModel = weighted(MODELS.map(([, w]) => w));
// status: 97 % 200, then the failures, per mille.
const STATUSES: readonly (readonly [status: number, perMille: number])[] = [
  [200, 970],
  [429, 12],
  [500, 6],
  [503, 4],
  [400, 5],
  [499, 2],
  [502, 1],
];
const pickStatus = weighted(STATUSES.map(([, w]) => w));
const ERROR_TYPES: Record<number, string> = { 429: "rate_limit_exceeded", 500: "upstream_error", 503: "upstream_error", 400: "invalid_request_error", 499: "client_closed", 502: "upstream_unreachable" };

/** Column order of CALL_INSERT and of the arrays makeCall returns. */
const CALL_COLUMNS = [
  "request_id",
  "created_at",
  "model",
  "endpoint",
  "stream",
  "status",
  "error_type",
  "error_message",
  "prompt_tokens",
  "completion_tokens",
  "total_tokens",
  "usage_source",
  "duration_ms",
  "ttft_ms",
  "key_id",
  "team",
  "project",
  "user",
  "upstream_request_id",
  "cost_nano",
] as const;
const CALL_INSERT = `INSERT INTO calls (${CALL_COLUMNS.map((c) => `"${c}"`).join(", ")}) VALUES (${CALL_COLUMNS.map(() => "?").join(", ")})`;

type CallValues = (string | number | null)[];

/** One call at `createdAt` with the data set's distributions, as CALL_INSERT parameters. */
function callFactory(book: PriceBook): (r: Prng, createdAt: number) => CallValues {
  return (r, createdAt) => {
    const listing = r.next() < 0.01;
    const model = listing ? null : MODELS[pickModel(r.next())]![0];
    const status = STATUSES[pickStatus(r.next())]![0];
    const streamError = status === 200 && r.next() < 0.001;
    const failed = status >= 400 || streamError;
    const stream = !listing && r.next() < 0.4;
    const hasUsage = !listing && (!failed || status === 499 || streamError);
    // Long-tailed prompt sizes (most chats are short, some carry whole documents).
    const prompt = hasUsage ? Math.floor(40 + 6000 * r.next() ** 3) : null;
    const completion = hasUsage ? Math.floor(10 + 1500 * r.next() ** 2) : null;
    const attributed = r.next() >= 0.05;
    const u = r.int(0, USERS.length - 1);
    const user = USERS[u]!;
    // A user mostly uses "their" key (one of their team's keys), sometimes another of the team's.
    const teamKeys = KEYS_BY_TEAM[user.team]!;
    const key = teamKeys[(r.next() < 0.9 ? u : r.int(0, 99)) % teamKeys.length]!;
    const project = `${TEAMS[user.team]}-${(u + (r.next() < 0.8 ? 0 : r.int(1, 2))) % PROJECTS_PER_TEAM}`;
    const duration = failed && status !== 499 ? r.int(5, 400) : r.int(150, 400) + (completion ?? 0) * r.int(5, 25);
    const cost = book.costOf({ model, createdAt, promptTokens: prompt, completionTokens: completion });
    return [
      newRequestId(createdAt),
      createdAt,
      model,
      listing ? "/v1/models" : "/v1/chat/completions",
      stream ? 1 : 0,
      status,
      streamError ? "stream_error" : failed ? ERROR_TYPES[status]! : null,
      failed ? `upstream said ${status}: ${streamError ? "error event in stream" : "request failed"}` : null,
      prompt,
      completion,
      prompt === null ? null : prompt + (completion ?? 0),
      hasUsage ? (r.next() < 0.02 ? "estimated" : "upstream") : "none",
      duration,
      stream && hasUsage ? r.int(80, 900) : null,
      key.id,
      attributed ? TEAMS[user.team]! : null,
      attributed ? project : null,
      attributed ? user.name : null,
      failed || listing ? null : `chatcmpl-${createdAt.toString(36)}${r.int(0, 1e9).toString(36)}`,
      cost,
    ];
  };
}

/** Relative traffic of the 15-minute slot starting at `t` (see the header). */
function slotWeight(t: number): number {
  const hour = (t % 86_400_000) / 3_600_000;
  const weekday = new Date(t).getUTCDay();
  const diurnal = 0.15 + Math.exp(-((hour - 14) ** 2) / (2 * 4 ** 2));
  const weekend = weekday === 0 || weekday === 6 ? 0.4 : 1;
  const growth = 0.8 + (0.4 * (t - DATA_START)) / (DATA_END - DATA_START);
  return diurnal * weekend * growth;
}

/**
 * Calls per 15-minute slot of [start, end), summing to exactly `total` (cumulative rounding
 * of the slot weights, so there is no sampling noise in the totals).
 */
function slotCounts(start: number, end: number, total: number): { start: number; count: number }[] {
  const slots: { start: number; weight: number }[] = [];
  for (let t = start; t < end; t += SLOT_MS) slots.push({ start: t, weight: slotWeight(t) });
  const sum = slots.reduce((s, x) => s + x.weight, 0);
  let acc = 0;
  let given = 0;
  return slots.map((s) => {
    acc += s.weight;
    const upTo = Math.round((acc / sum) * total);
    const count = upTo - given;
    given = upTo;
    return { start: s.start, count };
  });
}

/**
 * Insert `total` calls spread over [start, end) in created_at order (ids follow arrival), in
 * transactions of `batch` rows. `onProgress` gets the number inserted so far.
 */
export async function insertCalls(db: Db, seed: number, start: number, end: number, total: number, onProgress?: (done: number) => void, batch = 200_000): Promise<void> {
  const client = sqliteClient(db);
  const insert = client.prepare(CALL_INSERT);
  const make = callFactory(await PriceBook.load(db));
  const r = prng(seed);
  let pending: CallValues[] = [];
  let done = 0;
  const flush = client.transaction((rows: CallValues[]) => {
    for (const row of rows) insert.run(row);
  });
  for (const slot of slotCounts(start, end, total)) {
    const times = Array.from({ length: slot.count }, () => slot.start + Math.floor(r.next() * SLOT_MS)).sort((a, b) => a - b);
    for (const t of times) pending.push(make(r, t));
    if (pending.length >= batch) {
      flush(pending);
      done += pending.length;
      pending = [];
      onProgress?.(done);
    }
  }
  if (pending.length === 0) return;
  flush(pending);
  onProgress?.(done + pending.length);
}

export interface SpendDataset {
  path: string;
  calls: number;
  /** Seconds spent generating it in this run; null when it came from the cache. */
  generatedSeconds: number | null;
}

/** The cached data set of `total` calls, generated first if it is not there yet. */
export async function ensureSpendDb(dir: string, total: number, log: (msg: string) => void): Promise<SpendDataset> {
  const path = join(dir, `spend-g${GENERATOR_VERSION}-${total}.db`);
  const done = `${path}.done`;
  const cached = (): SpendDataset | null => {
    if (!existsSync(path) || !existsSync(done)) return null;
    log(`data set: cached ${path} (${JSON.parse(readFileSync(done, "utf8")).seconds} s to generate)`);
    return { path, calls: total, generatedSeconds: null };
  };
  const found = cached();
  if (found) return found;
  mkdirSync(dir, { recursive: true });
  // Other benchmarks share this file (bench/pages-bench.ts): one process generates it, the
  // others wait for it instead of writing the same file at the same time.
  return holdingBuildLock(`${path}.lock`, log, async () => cached() ?? (await generate(path, done, total, log)));
}

async function generate(path: string, done: string, total: number, log: (msg: string) => void): Promise<SpendDataset> {
  // Holding the lock: anything named after the data set is left over from a run that died.
  for (const f of readdirSync(dirname(path))) if (f.startsWith(basename(path)) && !f.endsWith(".lock")) rmSync(join(dirname(path), f), { force: true });
  const partial = `${path}.partial`;
  const t0 = performance.now();
  const db = openDatabase(partial);
  const client = sqliteClient(db);
  // Load settings for this one-off connection only: the data set is rebuilt from scratch if the
  // process dies, so durability buys nothing here. The measured server uses open.ts as it is.
  client.pragma("journal_mode = OFF");
  client.pragma("locking_mode = EXCLUSIVE");
  client.pragma("synchronous = OFF");
  client.pragma("cache_size = -524288"); // 512 MB
  client.pragma("threads = 2"); // sorter threads for CREATE INDEX and the rollup's GROUP BYs
  const indexes = client.prepare("SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = 'calls' AND sql IS NOT NULL").all() as {
    name: string;
    sql: string;
  }[];
  for (const index of indexes) client.exec(`DROP INDEX "${index.name}"`);
  let lastLog = 0;
  await insertCalls(db, GENERATOR_VERSION * 1_000_003 + total, DATA_START, DATA_END, total, (n) => {
    if (performance.now() - lastLog > 10_000 || n === total) {
      lastLog = performance.now();
      log(`data set: ${n.toLocaleString("en-US")} / ${total.toLocaleString("en-US")} calls inserted (${((performance.now() - t0) / 1000).toFixed(0)} s)`);
    }
  });
  for (const index of indexes) client.exec(index.sql);
  // The recorder indexes each error message for text search as it writes the call; these calls
  // were written around it, so their messages are indexed here in one pass (as migration 0011
  // does for a database that predates the index).
  client.exec("INSERT INTO calls_error_fts (rowid, error_message) SELECT id, error_message FROM calls WHERE error_message IS NOT NULL");
  log(`data set: ${indexes.length} indexes of calls built, error messages indexed (${((performance.now() - t0) / 1000).toFixed(0)} s)`);
  // The real rollup, in steps like the scheduler's (one transaction per million calls).
  for (;;) {
    const progress = await db.transaction((tx) => rollupPending(tx, 1_000_000), { immediate: true });
    log(`data set: rolled up to call ${progress.watermark.toLocaleString("en-US")} (${((performance.now() - t0) / 1000).toFixed(0)} s)`);
    if (progress.caughtUp) break;
  }
  client.close(); // journal_mode OFF does not stick: the server's open.ts puts the file in WAL

  renameSync(partial, path);
  const seconds = Math.round((performance.now() - t0) / 1000);
  writeFileSync(done, JSON.stringify({ generator: GENERATOR_VERSION, calls: total, seconds, created: new Date().toISOString() }));
  log(`data set: ${total.toLocaleString("en-US")} calls generated and rolled up in ${seconds} s → ${path}`);
  return { path, calls: total, generatedSeconds: seconds };
}
