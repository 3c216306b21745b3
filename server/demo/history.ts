import { failureBodies } from "./failure-bodies.ts";
import { DateTime } from "luxon";
import { fingerprintKey } from "../proxy/fingerprint.ts";
import type { CallRecord } from "../recorder/recorder.ts";
import type { SeedSink } from "./seed-store.ts";
import { STREAM_ERROR } from "../sim/wire.ts";
import {
  CLIENT_FAULTS,
  UPSTREAM_ERRORS,
  UPSTREAM_FAULTS,
  WORKLOADS,
  demoModel,
  keysOn,
  modelsOn,
  sampleCompletionTokens,
  sampleTokensPerSecond,
  sampleTtftMs,
  type Workload,
} from "./catalog.ts";
import { chance, hex, logNormal, pick, pickWeighted, poisson, seededRandom, uniform, uuid, type Random } from "./random.ts";

// Synthetic call history, shaped like what the proxy records (server/proxy/call-tracker.ts):
// the same statuses, error types and messages, usage sources, ttft and durations. Volumes follow
// London office and customer hours, weekends, growth over the quarter, a credit outage and a
// 503 storm. Rows go through the real Recorder, so they are priced exactly like live calls.

type CallRow = CallRecord["call"];

export interface HistoryOptions {
  seed: number;
  /** The history ends here (epoch ms). */
  now: number;
  days: number;
  /** The proxy's UPSTREAM_TIMEOUT_MS: how long a 504 call lasted. */
  timeoutMs: number;
  /** Scales every workload's volume (1 ≈ 230k calls over 90 days). */
  volume?: number;
}

export const DEMO_ZONE = "Europe/London";
const HOUR = 3_600_000;
const DAY = 24 * HOUR;
/** Growth is defined over a quarter, whatever `days` is. */
const GROWTH_SPAN_DAYS = 90;

interface Incident {
  from: number;
  to: number;
  status: 429 | 503;
  share: number;
  model?: string;
}

/** Two bad afternoons, at fixed London times relative to `now`, so every seed shows them. */
function incidents(now: number): Incident[] {
  const today = DateTime.fromMillis(now, { zone: DEMO_ZONE }).startOf("day");
  const at = (daysAgo: number, hour: number, minute: number) => today.minus({ days: daysAgo }).set({ hour, minute }).toMillis();
  return [
    // Prepaid credit ran out at lunchtime and was topped up 85 minutes later: every call is a 429.
    { from: at(37, 13, 40), to: at(37, 15, 5), status: 429, share: 1 },
    // Capacity trouble on the 70B: 40 % of its calls got 503 for an hour.
    { from: at(12, 10, 0), to: at(12, 11, 0), status: 503, share: 0.4, model: "meta-llama/Llama-3.3-70B-Instruct" },
  ];
}

/** Calls of `days` days up to `now`, in time order. Same options, same rows. */
export function* generateHistory(opts: HistoryOptions): Generator<CallRow> {
  const r = seededRandom(opts.seed);
  const volume = opts.volume ?? 1;
  const start = opts.now - opts.days * DAY;
  const outages = incidents(opts.now);
  const fingerprints = new Map<string, string | null>();
  const fingerprint = (key: string) => {
    if (!fingerprints.has(key)) fingerprints.set(key, fingerprintKey(`Bearer ${key}`));
    return fingerprints.get(key) ?? null;
  };
  // Day-level draws (noise, batch days) per London date and workload.
  let day = "";
  let dayFactors: number[] = [];
  let burstDay: boolean[] = [];

  // London offsets are whole hours, so each UTC hour is one London hour.
  for (let hour = Math.floor(start / HOUR) * HOUR; hour < opts.now; hour += HOUR) {
    const local = DateTime.fromMillis(hour, { zone: DEMO_ZONE });
    const weekend = local.weekday >= 6;
    if (local.toISODate() !== day) {
      day = local.toISODate() ?? "";
      dayFactors = WORKLOADS.map(() => logNormal(r, 1, 0.12));
      burstDay = WORKLOADS.map((w) => !weekend && !!w.burst && chance(r, w.burst.chance));
    }
    const from = Math.max(hour, start);
    const to = Math.min(hour + HOUR, opts.now);
    const daysAgo = (opts.now - hour) / DAY;
    const rows: CallRow[] = [];
    WORKLOADS.forEach((w, i) => {
      if (w.sinceDaysAgo !== undefined && daysAgo >= w.sinceDaysAgo) return;
      const share = (w.hours[local.hour] ?? 0) / sum(w.hours);
      const growth = w.startFraction ** (Math.min(daysAgo, GROWTH_SPAN_DAYS) / GROWTH_SPAN_DAYS);
      let perDay = w.callsPerDay * growth * (weekend ? w.weekend : 1) * (dayFactors[i] ?? 1);
      if (burstDay[i] && w.burst) perDay += w.burst.calls;
      const count = poisson(r, perDay * share * volume * ((to - from) / HOUR));
      for (let n = 0; n < count; n++) {
        const row = makeCall(r, w, Math.floor(uniform(r, from, to)), Math.floor(daysAgo), opts.timeoutMs, outages, fingerprint);
        if (row) rows.push(row);
      }
    });
    rows.sort((a, b) => a.createdAt - b.createdAt);
    yield* rows;
  }
}

function sum(xs: readonly number[]): number {
  return xs.reduce((a, b) => a + b, 0);
}

function makeCall(
  r: Random,
  w: Workload,
  createdAt: number,
  daysAgo: number,
  timeoutMs: number,
  outages: Incident[],
  fingerprint: (key: string) => string | null,
): CallRow | null {
  const models = modelsOn(w, daysAgo);
  const keys = keysOn(w, daysAgo);
  if (models.length === 0 || keys.length === 0) return null;
  const modelId = pickWeighted(r, models);
  const model = demoModel(modelId);
  if (!model) throw new Error(`demo workload "${w.name}" uses unknown model ${modelId}`);
  const stream = chance(r, w.streamShare);
  const prompt = Math.max(8, Math.round(logNormal(r, w.promptTokens.median, w.promptTokens.sigma)));
  const completion = sampleCompletionTokens(r, w.maxTokens);
  const ttft = sampleTtftMs(r, model, prompt);
  const msPerToken = 1000 / sampleTokensPerSecond(r, model);
  const overhead = Math.round(uniform(r, 2, 12)); // proxy + network on top of upstream's time
  const upstreamId = `chatcmpl-${hex(r, 24)}`;

  const base: CallRow = {
    requestId: uuid(r),
    createdAt,
    model: modelId,
    endpoint: "/v1/chat/completions",
    stream,
    status: 200,
    errorType: null,
    errorMessage: null,
    promptTokens: prompt,
    completionTokens: completion,
    totalTokens: prompt + completion,
    usageSource: "upstream",
    durationMs: Math.round(ttft + completion * msPerToken) + overhead,
    ttftMs: stream ? ttft + overhead : null,
    keyId: fingerprint(pickWeighted(r, keys)),
    team: w.team,
    project: w.project,
    user: pick(r, w.users),
    upstreamRequestId: upstreamId,
  };
  const noUsage = { promptTokens: null, completionTokens: null, totalTokens: null, usageSource: "none", ttftMs: null } as const;
  const upstreamError = (status: 429 | 500 | 503, durationMs: number): CallRow => ({
    ...base, ...noUsage, status, errorType: UPSTREAM_ERRORS[status].type, errorMessage: UPSTREAM_ERRORS[status].message, durationMs: Math.round(durationMs),
  });
  // The proxy's tokenizer estimate (usage_source 'estimated') is close to, not equal to, upstream's count.
  const estimated = (completionSeen: number) => {
    const p = Math.round(prompt * uniform(r, 0.94, 1.06));
    const c = Math.round(completionSeen * uniform(r, 0.92, 1.08));
    return { promptTokens: p, completionTokens: c, totalTokens: p + c, usageSource: "estimated" } as const;
  };

  const outage = outages.find((o) => createdAt >= o.from && createdAt < o.to && (!o.model || o.model === modelId));
  if (outage && chance(r, outage.share)) return upstreamError(outage.status, outage.status === 429 ? uniform(r, 30, 120) : uniform(r, 20, 150));

  let u = r.next();
  if ((u -= CLIENT_FAULTS.unreachable) < 0) {
    return { ...base, ...noUsage, upstreamRequestId: null, status: 502, errorType: "upstream_unreachable", errorMessage: "upstream unreachable: UND_ERR_SOCKET: other side closed", durationMs: Math.round(uniform(r, 1, 40)) };
  }
  if ((u -= UPSTREAM_FAULTS.insufficientCredit) < 0) return upstreamError(429, uniform(r, 30, 120));
  if ((u -= UPSTREAM_FAULTS.internalError) < 0) return upstreamError(500, uniform(r, 80, 1500));
  if ((u -= UPSTREAM_FAULTS.unavailable) < 0) return upstreamError(503, uniform(r, 20, 150));
  if ((u -= UPSTREAM_FAULTS.slow) < 0) {
    return { ...base, ...noUsage, upstreamRequestId: null, status: 504, errorType: "upstream_timeout", errorMessage: `upstream did not answer within ${timeoutMs} ms`, durationMs: timeoutMs + overhead };
  }
  if (!stream) {
    if (chance(r, CLIENT_FAULTS.requestClosed)) {
      return { ...base, ...noUsage, upstreamRequestId: null, status: 499, errorType: "client_closed_request", errorMessage: "client closed the connection", durationMs: Math.round(uniform(r, ttft, base.durationMs)) };
    }
    return base;
  }
  const partial = () => Math.max(1, Math.floor(completion * uniform(r, 0.05, 0.9)));
  if (chance(r, CLIENT_FAULTS.streamClosed)) {
    const seen = partial();
    return { ...base, ...estimated(seen), status: 499, errorType: "client_closed_request", errorMessage: "client closed the connection mid-stream", durationMs: Math.round(ttft + seen * msPerToken) + overhead };
  }
  if (chance(r, UPSTREAM_FAULTS.streamError)) {
    const seen = partial();
    return { ...base, ...estimated(seen), errorType: STREAM_ERROR.type, errorMessage: STREAM_ERROR.message, durationMs: Math.round(ttft + seen * msPerToken) + overhead };
  }
  if (chance(r, UPSTREAM_FAULTS.streamWithoutUsage)) return { ...base, ...estimated(completion) };
  return base;
}

export interface SeedResult {
  calls: number;
  from: number;
  to: number;
  ms: number;
}

/**
 * Write the history through the recorder (priced by its priceCall hook), flushing every 10k
 * rows so memory stays flat, and yielding between flushes so the process stays responsive.
 */
export async function seedHistory(recorder: SeedSink, opts: HistoryOptions, onProgress?: (calls: number, upTo: number) => void): Promise<SeedResult> {
  const t0 = performance.now();
  let calls = 0;
  const flush = async () => {
    if (!(await recorder.flush(true))) throw new Error("demo: writing the seeded history failed (see the recorder's warning above)");
  };
  for (const call of generateHistory(opts)) {
    const bodies = failureBodies(call);
    recorder.enqueue(bodies ? { call, bodies } : { call });
    if (++calls % 10_000 === 0) {
      await flush();
      onProgress?.(calls, call.createdAt);
      await new Promise((resolve) => setImmediate(resolve));
    }
  }
  await flush();
  return { calls, from: opts.now - opts.days * DAY, to: opts.now, ms: Math.round(performance.now() - t0) };
}
