import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { runRollupInSteps } from "../jobs/rollup.ts";
import { openDatabase } from "../server/db/open.ts";
import { callCostNano } from "../server/money.ts";
import { seededRandom, type Random } from "../server/demo/random.ts";

// The page benchmark's database: BENCH_CALLS calls (default 10M) over BENCH_DAYS days (90) ending
// at a fixed instant, written straight into `calls` with one prepared INSERT in 100k-row
// transactions (the recorder's per-row pricing hook is replaced by a per-model price lookup done
// once), then rolled up by the real job. Built once and kept under bench/out/ with a sidecar
// JSON: the bench server runs on a clock pinned to the data's "now", so a database built last
// week still has a "today" and a "this month". Migrations added since are applied when the
// server opens it, as they would be on a user's database.
//
// The shape is chosen to load every index and every rollup the pages read: 14 priced models and
// 2 unpriced ones, 300 keys and 800 users (so usage_buckets holds nearly one row per call, the
// high-cardinality case), 15 teams, 40 projects, ~3 % failures across the statuses the proxy
// records, and a 404 storm of 200 distinct bad model names (the failures view's top-N case).

const GENERATOR_VERSION = 1;
const HOUR = 3_600_000;
const DAY = 24 * HOUR;

const here = dirname(fileURLToPath(import.meta.url));

export interface PagesDataOptions {
  calls: number;
  days: number;
  /** Where the database files live (bench/out by default). */
  dir?: string;
  log?: (msg: string) => void;
}

export interface PagesDatabase {
  path: string;
  calls: number;
  days: number;
  /** The data ends here; the bench server's clock is pinned to it. */
  now: number;
  /** Seconds spent building it in this run (0 when the cached file was reused as is). */
  buildSeconds: number;
}

interface Sidecar {
  version: number;
  calls: number;
  days: number;
  now: number;
}

/** The cached database for these options, built first when there is none. */
export async function ensurePagesDatabase(opts: PagesDataOptions): Promise<PagesDatabase> {
  const log = opts.log ?? (() => {});
  const dir = opts.dir ?? join(here, "out");
  mkdirSync(dir, { recursive: true });
  const path = join(dir, `pages-${opts.calls}-${opts.days}d.db`);
  const sidecarPath = `${path}.json`;
  const started = performance.now();
  const seconds = () => Math.round((performance.now() - started) / 1000);

  const cached = existsSync(path) && existsSync(sidecarPath) ? (JSON.parse(readFileSync(sidecarPath, "utf8")) as Sidecar) : null;
  if (cached && cached.version === GENERATOR_VERSION && cached.calls === opts.calls && cached.days === opts.days) {
    return { path, calls: opts.calls, days: opts.days, now: cached.now, buildSeconds: 0 };
  }

  // Build under a temporary name so an interrupted build never passes for a finished one.
  const building = `${path}.building`;
  for (const p of [path, sidecarPath, building, `${building}-wal`, `${building}-shm`]) rmSync(p, { force: true });
  const now = Date.now();
  const db = openDatabase(building);
  try {
    const client = db.$client;
    log(`pages db: writing ${opts.calls.toLocaleString("en-US")} calls over ${opts.days} days to ${building}`);
    const prices = new Map(
      (client.prepare("SELECT model, input_micro_per_mtok AS i, output_micro_per_mtok AS o FROM prices").all() as Array<{ model: string; i: number; o: number }>).map((p) => [p.model, p]),
    );
    insertCalls(client, { calls: opts.calls, from: now - opts.days * DAY, to: now, prices }, (n) => log(`pages db: ${n.toLocaleString("en-US")} calls written (${seconds()} s)`));
    log(`pages db: rolling up (${seconds()} s so far)`);
    await runRollupInSteps(db, now, 500_000);
    // No ANALYZE: production databases never run it, so the bench plans queries as they do.
    client.pragma("wal_checkpoint(TRUNCATE)");
  } finally {
    db.$client.close();
  }
  renameSync(building, path);
  writeFileSync(sidecarPath, JSON.stringify({ version: GENERATOR_VERSION, calls: opts.calls, days: opts.days, now } satisfies Sidecar));
  log(`pages db: built in ${seconds()} s`);
  return { path, calls: opts.calls, days: opts.days, now, buildSeconds: seconds() };
}

const MODELS: Array<[name: string, weight: number]> = [
  ["meta-llama/Llama-3.1-8B-Instruct", 30],
  ["meta-llama/Llama-3.3-70B-Instruct", 20],
  ["meta-llama/Llama-4-Scout-17B-16E-Instruct", 12],
  ["Qwen/Qwen2.5-Coder-32B-Instruct", 10],
  ["Qwen/Qwen2.5-Coder-7B-Instruct", 6],
  ["Qwen/Qwen2.5-Coder-3B-Instruct", 3],
  ["Qwen/QwQ-32B", 4],
  ["deepseek-ai/DeepSeek-R1-Distill-Llama-70B", 5],
  ["deepseek-ai/DeepSeek-R1-Distill-Llama-8B", 2],
  ["deepseek-ai/DeepSeek-R1-Distill-Qwen-1.5B", 1],
  ["deepseek-ai/DeepSeek-R1-Distill-Qwen-7B", 1],
  ["deepseek-ai/DeepSeek-R1-Distill-Qwen-14B", 1],
  ["deepseek-ai/DeepSeek-R1-Distill-Qwen-32B", 2],
  ["mistralai/Mixtral-8x22B-Instruct-v0.1", 2],
  // No seeded price: these calls are "unpriced".
  ["acme/finetune-support-v3", 0.6],
  ["acme/finetune-search-v1", 0.4],
];

// status, error_type, error_message, share of all calls (sums to ~3 %).
const FAILURES: Array<[status: number, type: string, message: string, share: number]> = [
  [429, "insufficient_credit", "Insufficient credit: top up your Nscale balance", 0.006],
  [503, "server_error", "The model is overloaded, please retry", 0.007],
  [500, "server_error", "Internal server error", 0.004],
  [504, "upstream_timeout", "Upstream did not answer within 120000 ms", 0.003],
  [499, "client_closed_request", "Client closed the connection mid-stream", 0.005],
  [502, "upstream_unreachable", "connect ECONNREFUSED inference.api.nscale.com", 0.001],
  [200, "server_error", "error event inside the stream: model crashed", 0.002],
  [400, "invalid_request_error", "max_tokens is too large for this model", 0.001],
];
const STORM_SHARE = 0.001; // 404s for 200 distinct misspelt model names
const TEAMS = ["search", "support", "growth", "platform", "data", "mobile", "billing", "ml-research", "ops", "sales", "legal", "design", "infra", "qa", "web"];

/** Index into `weights` drawn proportionally to them. */
function weightedPicker(weights: number[]): (r: Random) => number {
  const total = weights.reduce((a, b) => a + b, 0);
  let sum = 0;
  const cumulative = weights.map((w) => (sum += w / total));
  return (r) => {
    const x = r.next();
    const i = cumulative.findIndex((c) => x < c);
    return i < 0 ? weights.length - 1 : i;
  };
}

/** A Zipf-like pick among n values: a few heavy hitters, a long tail. */
function zipf(r: Random, n: number): number {
  return Math.min(n - 1, Math.floor(n ** r.next()) - 1 + (r.next() < 0.5 ? 0 : Math.floor(r.next() * 2)));
}

interface InsertPlan {
  calls: number;
  from: number;
  to: number;
  prices: Map<string, { i: number; o: number }>;
}

function insertCalls(client: import("better-sqlite3").Database, plan: InsertPlan, progress: (n: number) => void): void {
  const insert = client.prepare(
    `INSERT INTO calls (request_id, created_at, model, endpoint, stream, status, error_type, error_message, prompt_tokens, completion_tokens,
       total_tokens, usage_source, duration_ms, ttft_ms, key_id, team, project, "user", upstream_request_id, cost_nano)
     VALUES (?, ?, ?, '/v1/chat/completions', ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
  );
  const r = seededRandom(20_251_125);
  const pickModel = weightedPicker(MODELS.map(([, w]) => w));
  const pickFailure = weightedPicker(FAILURES.map(([, , , s]) => s));
  const failShare = FAILURES.reduce((a, [, , , s]) => a + s, 0);
  const keys = Array.from({ length: 300 }, (_, i) => `${createHash("sha256").update(`key-${i}`).digest("hex").slice(0, 12)}..${String(i).padStart(4, "0")}`);
  const step = (plan.to - plan.from) / plan.calls;
  const CHUNK = 100_000;
  const writeChunk = client.transaction((start: number, end: number) => {
    for (let i = start; i < end; i++) {
      // Evenly spread with jitter, in id order (the rollup and the keyset pages expect that).
      const t = Math.floor(plan.from + (i + r.next()) * step);
      const [modelName] = MODELS[pickModel(r)]!;
      const x = r.next();
      let status = 200;
      let errorType: string | null = null;
      let message: string | null = null;
      let model: string | null = modelName;
      if (x < STORM_SHARE) {
        status = 404;
        errorType = "model_not_found";
        model = `meta-llama/Llama-3.3-70B-Instruct-typo-${Math.floor(r.next() * 200)}`;
        message = `The model ${model} does not exist`;
      } else if (x < STORM_SHARE + failShare) {
        const f = FAILURES[pickFailure(r)]!;
        [status, errorType, message] = [f[0], f[1], f[2]];
      }
      const stream = r.next() < 0.5;
      const failedEarly = status !== 200 && status !== 499;
      const prompt = 40 + Math.floor(r.next() * r.next() * 4000);
      const completion = failedEarly ? null : Math.floor(20 + r.next() * r.next() * 1200);
      const price = model === null ? undefined : plan.prices.get(model);
      const cost = price === undefined ? null : callCostNano(prompt, completion, price.i, price.o);
      const duration = failedEarly ? 20 + Math.floor(r.next() * 400) : 150 + Math.floor(r.next() * r.next() * 9000);
      const team = r.next() < 0.1 ? null : TEAMS[zipf(r, TEAMS.length)]!;
      insert.run(
        `bench-${i}`,
        t,
        model,
        stream ? 1 : 0,
        status,
        errorType,
        message,
        prompt,
        completion,
        completion === null ? null : prompt + completion,
        status === 404 ? "none" : "upstream",
        duration,
        stream && !failedEarly ? 60 + Math.floor(r.next() * 600) : null,
        keys[zipf(r, keys.length)]!,
        team,
        r.next() < 0.3 ? null : `project-${zipf(r, 40)}`,
        r.next() < 0.4 ? null : `user-${zipf(r, 800)}`,
        `chatcmpl-bench-${i}`,
        cost,
      );
    }
  });
  for (let start = 0; start < plan.calls; start += CHUNK) {
    writeChunk(start, Math.min(plan.calls, start + CHUNK));
    if ((start + CHUNK) % 1_000_000 === 0 || start + CHUNK >= plan.calls) progress(Math.min(plan.calls, start + CHUNK));
  }
}
