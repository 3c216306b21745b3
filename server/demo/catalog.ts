import { logNormal, uniform, type Random } from "./random.ts";

// What the demo simulates: Nscale models (prices from docs/nscale.md, "Published prices") with a
// latency model, and the teams, projects, users and keys whose workloads make up the history and
// live traffic.
// The simulator, the history generator and the live traffic all read this one file, so the
// seeded rows and the live rows look alike.

export interface DemoModel {
  id: string;
  contextLength: number;
  /** USD per 1M tokens as GET /v1/models shows it; absent = a model with no published price. */
  pricing?: { input: number; output: number };
  /** Time to first token before prefill, ms (uniform in the range). */
  ttftMs: readonly [number, number];
  /** Prompt tokens processed per second: long prompts start later. */
  prefillPerSecond: number;
  /** Streaming speed, tokens per second (uniform in the range, per call). */
  tokensPerSecond: readonly [number, number];
}

export const UNPRICED_MODEL = "Qwen/Qwen3-235B-A22B-Instruct-2507";

export const DEMO_MODELS: readonly DemoModel[] = [
  { id: "meta-llama/Llama-3.1-8B-Instruct", contextLength: 131072, pricing: { input: 0.03, output: 0.03 }, ttftMs: [150, 280], prefillPerSecond: 40_000, tokensPerSecond: [95, 120] },
  { id: "meta-llama/Llama-3.3-70B-Instruct", contextLength: 131072, pricing: { input: 0.2, output: 0.2 }, ttftMs: [320, 600], prefillPerSecond: 12_000, tokensPerSecond: [40, 60] },
  { id: "meta-llama/Llama-4-Scout-17B-16E-Instruct", contextLength: 131072, pricing: { input: 0.09, output: 0.29 }, ttftMs: [220, 420], prefillPerSecond: 25_000, tokensPerSecond: [70, 100] },
  { id: "Qwen/Qwen2.5-Coder-32B-Instruct", contextLength: 32768, pricing: { input: 0.06, output: 0.2 }, ttftMs: [250, 480], prefillPerSecond: 18_000, tokensPerSecond: [50, 75] },
  { id: "Qwen/Qwen2.5-Coder-7B-Instruct", contextLength: 32768, pricing: { input: 0.01, output: 0.03 }, ttftMs: [150, 260], prefillPerSecond: 40_000, tokensPerSecond: [90, 120] },
  { id: "deepseek-ai/DeepSeek-R1-Distill-Llama-70B", contextLength: 131072, pricing: { input: 0.375, output: 0.375 }, ttftMs: [350, 600], prefillPerSecond: 12_000, tokensPerSecond: [40, 55] },
  // Not in the price catalog (nor priced by GET /v1/models): the dashboards must call it unpriced.
  { id: UNPRICED_MODEL, contextLength: 131072, ttftMs: [400, 600], prefillPerSecond: 10_000, tokensPerSecond: [40, 60] },
];

const MODELS_BY_ID = new Map(DEMO_MODELS.map((m) => [m.id, m]));

export function demoModel(id: string): DemoModel | undefined {
  return MODELS_BY_ID.get(id);
}

// ---------------------------------------------------------------------------------------------
// Latency and length model (shared by the simulator and the history generator)

export function sampleTtftMs(r: Random, model: DemoModel, promptTokens: number): number {
  return Math.round(uniform(r, model.ttftMs[0], model.ttftMs[1]) + (promptTokens / model.prefillPerSecond) * 1000);
}

export function sampleTokensPerSecond(r: Random, model: DemoModel): number {
  return uniform(r, model.tokensPerSecond[0], model.tokensPerSecond[1]);
}

/** Without max_tokens a reply is a few hundred tokens. */
const DEFAULT_MAX_TOKENS = 1200;

/**
 * How long a model's answer is: log-normal around a quarter of the caller's max_tokens (callers
 * size max_tokens to their use case: 64 for a label, 8k for reasoning), cut at max_tokens.
 */
export function sampleCompletionTokens(r: Random, maxTokens: number | undefined): number {
  const cap = maxTokens && maxTokens > 0 ? maxTokens : DEFAULT_MAX_TOKENS;
  return Math.max(1, Math.min(cap, Math.round(logNormal(r, cap / 4, 0.6))));
}

// ---------------------------------------------------------------------------------------------
// Faults: shares of calls, per call. Upstream-made ones are what the simulator does by itself;
// the others are caused by clients or the network, so only the history (and live aborts) has them.

export const UPSTREAM_FAULTS = {
  /** 429: at Nscale this means the prepaid credit ran out. */
  insufficientCredit: 0.004,
  internalError: 0.006,
  unavailable: 0.01,
  /** Upstream never answers: the proxy's UPSTREAM_TIMEOUT_MS fires (504). */
  slow: 0.003,
  /** Of streams: an error event inside a 200 stream. */
  streamError: 0.005,
  /** Of streams: no usage chunk although include_usage was asked (the proxy estimates). */
  streamWithoutUsage: 0.03,
} as const;

export type UpstreamFaults = { -readonly [K in keyof typeof UPSTREAM_FAULTS]: number };

export const CLIENT_FAULTS = {
  /** Of streams: the caller stops reading mid-stream (499 with the tokens seen so far). */
  streamClosed: 0.012,
  /** Of non-streamed calls: the caller gives up before the answer (499, nothing known). */
  requestClosed: 0.002,
  /** Network trouble between proxy and upstream (502). */
  unreachable: 0.0005,
} as const;

/**
 * Nscale's error objects, as the fake upstream sends them too: the documented shape
 * (docs/nscale.md, "Errors"); the texts are stand-ins, as Nscale documents none.
 */
export const UPSTREAM_ERRORS = {
  429: { message: "Insufficient credit: top up your balance to continue", type: "insufficient_credit", code: "insufficient_credit" },
  500: { message: "Internal server error", type: "server_error", code: "internal_server_error" },
  503: { message: "Service temporarily unavailable, please retry with backoff", type: "server_error", code: "service_unavailable" },
} as const;

// ---------------------------------------------------------------------------------------------
// Who calls: workloads of teams, with their keys, models, volumes and shapes

/** Fake keys (never real): the proxy stores only their fingerprints. */
const DEMO_KEYS = {
  supportProd: "sk-demo-support-prod-4f9c2a7e1b3dQx7P",
  supportTriage: "sk-demo-support-triage-8b1e5d0c9a2fLm4R",
  searchOld: "sk-demo-search-prod-2019-6c3a9e1f7d40Ab2K",
  searchProd: "sk-demo-search-prod-2a7f0c4e9b13Vn8W",
  searchStaging: "sk-demo-search-staging-5d2b8f1a6e3cJt5S",
  mlpDev: "sk-demo-mlplatform-dev-9e4c1a7b2f05Hy3D",
  mlpCi: "sk-demo-mlplatform-ci-3b8d6f2a0c71Kp9Z",
  growthApp: "sk-demo-growth-app-7a1c5e9d3b28Rw6N",
  dsNotebooks: "sk-demo-datasci-notebooks-1f6b3d8a4c92Ue1G",
  dsBatch: "sk-demo-datasci-batch-0c9e2b7f5a16Ts4M",
  legacy: "sk-demo-legacy-cron-4e7a0d3c8b59Fz2Q",
} as const;

/** Relative volume per London hour (0–23). */
type HourProfile = readonly number[];
const OFFICE: HourProfile = [0.02, 0.01, 0.01, 0.01, 0.01, 0.02, 0.05, 0.2, 0.6, 1, 1, 1, 0.7, 0.9, 1, 1, 0.9, 0.6, 0.3, 0.15, 0.1, 0.08, 0.05, 0.03];
const CUSTOMERS: HourProfile = [0.2, 0.15, 0.12, 0.1, 0.1, 0.12, 0.25, 0.5, 0.8, 1, 1, 1, 1, 1, 1, 1, 0.95, 0.9, 0.85, 0.8, 0.7, 0.55, 0.4, 0.3];
const PIPELINE: HourProfile = [0.7, 0.7, 0.7, 0.7, 0.7, 0.7, 0.8, 0.9, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0.9, 0.9, 0.8, 0.8, 0.7, 0.7];
const NIGHTLY: HourProfile = [0, 0, 1, 1, 1, 0.6, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0];

interface KeyUse {
  key: string;
  /** Used only from this many days ago on / until this many days ago (key rotation). */
  sinceDaysAgo?: number;
  untilDaysAgo?: number;
  /** Relative share among the workload's keys of the day (default 1). */
  weight?: number;
}

export interface Workload {
  name: string;
  team: string | null;
  project: string | null;
  /** null = calls without X-Tollbooth-User. */
  users: readonly (string | null)[];
  keys: readonly KeyUse[];
  /** Model, weight, and optionally since how many days ago it is used. */
  models: readonly (readonly [string, number, number?])[];
  /** Weekday calls per day at the end of the history (today). */
  callsPerDay: number;
  /** Volume at the start of 90 days as a fraction of today's: growth over the quarter. */
  startFraction: number;
  hours: HourProfile;
  /** Weekend volume as a fraction of a weekday's. */
  weekend: number;
  streamShare: number;
  promptTokens: { median: number; sigma: number };
  maxTokens: number;
  sinceDaysAgo?: number;
  /** Occasional batch days: with this chance per weekday, this many extra calls in office hours. */
  burst?: { chance: number; calls: number };
}

export const WORKLOADS: readonly Workload[] = [
  {
    name: "support assistant (RAG answers)", team: "support-bot", project: "helpdesk-assistant", users: [null],
    keys: [{ key: DEMO_KEYS.supportProd }],
    models: [["meta-llama/Llama-3.3-70B-Instruct", 7], ["meta-llama/Llama-3.1-8B-Instruct", 3]],
    callsPerDay: 1400, startFraction: 0.45, hours: CUSTOMERS, weekend: 0.6, streamShare: 0.92,
    promptTokens: { median: 3000, sigma: 0.5 }, maxTokens: 1024,
  },
  {
    name: "ticket triage", team: "support-bot", project: "ticket-triage", users: [null],
    keys: [{ key: DEMO_KEYS.supportTriage }],
    models: [["meta-llama/Llama-3.1-8B-Instruct", 1]],
    callsPerDay: 250, startFraction: 0.7, hours: PIPELINE, weekend: 0.7, streamShare: 0,
    promptTokens: { median: 600, sigma: 0.4 }, maxTokens: 64,
  },
  {
    name: "search query rewrite", team: "search", project: "query-rewrite", users: [null],
    keys: [{ key: DEMO_KEYS.searchOld, untilDaysAgo: 30 }, { key: DEMO_KEYS.searchProd, sinceDaysAgo: 30 }],
    models: [["meta-llama/Llama-3.1-8B-Instruct", 1]],
    callsPerDay: 500, startFraction: 0.6, hours: CUSTOMERS, weekend: 0.5, streamShare: 0.05,
    promptTokens: { median: 150, sigma: 0.4 }, maxTokens: 160,
  },
  {
    name: "search answer summaries", team: "search", project: "answer-summaries", users: [null],
    keys: [{ key: DEMO_KEYS.searchOld, untilDaysAgo: 30 }, { key: DEMO_KEYS.searchProd, sinceDaysAgo: 30 }, { key: DEMO_KEYS.searchStaging, weight: 0.08 }],
    models: [["meta-llama/Llama-3.3-70B-Instruct", 1]],
    callsPerDay: 350, startFraction: 0.3, hours: CUSTOMERS, weekend: 0.5, streamShare: 0.9,
    promptTokens: { median: 4000, sigma: 0.4 }, maxTokens: 720,
  },
  {
    name: "code assistant", team: "ml-platform", project: "code-assistant", users: ["alice", "bob", "chen", "dmitri", "emeka"],
    keys: [{ key: DEMO_KEYS.mlpDev }],
    models: [["Qwen/Qwen2.5-Coder-32B-Instruct", 3], ["Qwen/Qwen2.5-Coder-7B-Instruct", 1]],
    callsPerDay: 450, startFraction: 0.5, hours: OFFICE, weekend: 0.05, streamShare: 0.95,
    promptTokens: { median: 2500, sigma: 0.7 }, maxTokens: 1400,
  },
  {
    name: "nightly evals", team: "ml-platform", project: "eval-harness", users: ["ci"],
    keys: [{ key: DEMO_KEYS.mlpCi }],
    models: [["meta-llama/Llama-3.1-8B-Instruct", 1], ["meta-llama/Llama-3.3-70B-Instruct", 1], ["meta-llama/Llama-4-Scout-17B-16E-Instruct", 1, 45]],
    callsPerDay: 200, startFraction: 0.8, hours: NIGHTLY, weekend: 0.3, streamShare: 0,
    promptTokens: { median: 700, sigma: 0.5 }, maxTokens: 512,
  },
  {
    name: "marketing copy", team: "growth", project: "email-copy", users: ["hannah", "luis", "mei"],
    keys: [{ key: DEMO_KEYS.growthApp }],
    // The team moved to Llama 4 Scout when it came out: 70B calls fade, Scout's grow.
    models: [["meta-llama/Llama-3.3-70B-Instruct", 1], ["meta-llama/Llama-4-Scout-17B-16E-Instruct", 4, 45]],
    callsPerDay: 150, startFraction: 0.5, hours: OFFICE, weekend: 0.1, streamShare: 0.6,
    promptTokens: { median: 400, sigma: 0.6 }, maxTokens: 2000,
  },
  {
    name: "research notebooks", team: "data-science", project: "notebook-research", users: ["priya", "tom"],
    keys: [{ key: DEMO_KEYS.dsNotebooks }],
    models: [["deepseek-ai/DeepSeek-R1-Distill-Llama-70B", 6], [UNPRICED_MODEL, 4, 20]],
    callsPerDay: 120, startFraction: 0.6, hours: OFFICE, weekend: 0.1, streamShare: 0.7,
    promptTokens: { median: 1500, sigma: 0.8 }, maxTokens: 6000,
  },
  {
    name: "batch labelling", team: "data-science", project: "batch-labeling", users: ["priya"],
    keys: [{ key: DEMO_KEYS.dsBatch }],
    models: [["meta-llama/Llama-3.1-8B-Instruct", 1]],
    callsPerDay: 10, startFraction: 1, hours: OFFICE, weekend: 0, streamShare: 0,
    promptTokens: { median: 350, sigma: 0.3 }, maxTokens: 48,
    burst: { chance: 0.12, calls: 1200 },
  },
  {
    name: "legacy cron without attribution headers", team: null, project: null, users: [null],
    keys: [{ key: DEMO_KEYS.legacy }],
    models: [["meta-llama/Llama-3.1-8B-Instruct", 1]],
    callsPerDay: 40, startFraction: 1, hours: PIPELINE, weekend: 1, streamShare: 0,
    promptTokens: { median: 300, sigma: 0.3 }, maxTokens: 256,
  },
];

/** Models a workload uses on a given day (days ago), with weights. */
export function modelsOn(w: Workload, daysAgo: number): (readonly [string, number])[] {
  return w.models.filter(([, , since]) => since === undefined || daysAgo < since).map(([id, weight]) => [id, weight] as const);
}

/** Keys a workload uses on a given day (days ago), with weights. */
export function keysOn(w: Workload, daysAgo: number): (readonly [string, number])[] {
  return w.keys
    .filter((k) => (k.sinceDaysAgo === undefined || daysAgo < k.sinceDaysAgo) && (k.untilDaysAgo === undefined || daysAgo >= k.untilDaysAgo))
    .map((k) => [k.key, k.weight ?? 1] as const);
}
