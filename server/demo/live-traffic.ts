import { DateTime } from "luxon";
import { CLIENT_FAULTS, WORKLOADS, keysOn, modelsOn, type Workload } from "./catalog.ts";
import { DEMO_ZONE } from "./history.ts";
import { chance, logNormal, pickWeighted, seededRandom, uniform, type Random } from "./random.ts";

// Live demo traffic: a Poisson stream of chat calls through the real proxy, with the workloads'
// keys, attribution headers, models and shapes, so the dashboards keep moving. Loopback only.

export interface LiveTrafficOptions {
  /** tollbooth's base URL (http://127.0.0.1:PORT). */
  baseUrl: string;
  /** Average calls per second. */
  ratePerSecond: number;
  seed?: number;
  /** Calls in flight at most; arrivals beyond it are skipped (a few calls hang until the timeout). */
  maxInFlight?: number;
}

export interface LiveTraffic {
  readonly sent: number;
  readonly inFlight: number;
  /** Stop sending; wait up to `graceMs` for calls in flight, then abort them (recorded as 499). */
  stop(graceMs?: number): Promise<void>;
}

const LOOPBACK = new Set(["127.0.0.1", "localhost", "[::1]"]);

export function startLiveTraffic(opts: LiveTrafficOptions): LiveTraffic {
  const endpoint = new URL("/v1/chat/completions", opts.baseUrl);
  if (!LOOPBACK.has(endpoint.hostname)) throw new Error(`demo traffic goes to loopback only, not ${endpoint.hostname}`);
  const r = seededRandom(opts.seed ?? Date.now());
  const maxInFlight = opts.maxInFlight ?? 32;
  const inFlight = new Set<AbortController>();
  let sent = 0;
  let stopped = false;
  let timer: NodeJS.Timeout | null = null;

  const scheduleNext = () => {
    if (stopped) return;
    // Exponential gaps: arrivals of a Poisson process.
    timer = setTimeout(fire, (-Math.log(1 - r.next()) / opts.ratePerSecond) * 1000);
  };
  const fire = () => {
    if (inFlight.size < maxInFlight) {
      const abort = new AbortController();
      inFlight.add(abort);
      sent++;
      sendCall(r, endpoint, abort).finally(() => inFlight.delete(abort));
    }
    scheduleNext();
  };
  scheduleNext();

  return {
    get sent() {
      return sent;
    },
    get inFlight() {
      return inFlight.size;
    },
    async stop(graceMs = 3_000) {
      stopped = true;
      if (timer) clearTimeout(timer);
      const deadline = Date.now() + graceMs;
      while (inFlight.size > 0 && Date.now() < deadline) await new Promise((res) => setTimeout(res, 20));
      for (const abort of inFlight) abort.abort();
      while (inFlight.size > 0) await new Promise((res) => setTimeout(res, 5));
    },
  };
}

/** The workload mix of this London hour: at night it is mostly pipelines and nightly evals. */
function pickWorkload(r: Random): Workload {
  const hour = DateTime.now().setZone(DEMO_ZONE).hour;
  const weighted = WORKLOADS.map((w) => [w, (w.callsPerDay * (w.hours[hour] ?? 0)) / w.hours.reduce((a, b) => a + b, 0)] as const);
  return pickWeighted(r, weighted.some(([, weight]) => weight > 0) ? weighted : WORKLOADS.map((w) => [w, w.callsPerDay] as const));
}

async function sendCall(r: Random, endpoint: URL, abort: AbortController): Promise<void> {
  const w = pickWorkload(r);
  const model = pickWeighted(r, modelsOn(w, 0));
  const key = pickWeighted(r, keysOn(w, 0));
  const user = w.users[Math.floor(r.next() * w.users.length)] ?? null;
  const stream = chance(r, w.streamShare);
  // The simulator counts prompt tokens as words + 3 per message.
  const promptWords = Math.max(5, Math.round(logNormal(r, w.promptTokens.median, w.promptTokens.sigma)) - 26);
  const body: Record<string, unknown> = {
    model,
    messages: [
      { role: "system", content: `You are the ${w.project ?? "internal"} assistant. Answer briefly and cite the context you were given.` },
      { role: "user", content: Array.from({ length: promptWords }, (_, i) => (i % 12 === 11 ? "context." : "context")).join(" ") },
    ],
    max_tokens: w.maxTokens,
    temperature: Math.round(uniform(r, 0, 1) * 10) / 10,
  };
  if (stream) {
    body.stream = true;
    if (chance(r, 0.5)) body.stream_options = { include_usage: true };
  }
  const headers: Record<string, string> = { authorization: `Bearer ${key}`, "content-type": "application/json" };
  if (w.team) headers["x-tollbooth-team"] = w.team;
  if (w.project) headers["x-tollbooth-project"] = w.project;
  if (user) headers["x-tollbooth-user"] = user;
  // Some callers give up mid-stream (the proxy records 499 with the tokens seen so far).
  const closeAfterEvents = stream && chance(r, CLIENT_FAULTS.streamClosed) ? Math.floor(uniform(r, 2, 40)) : Infinity;
  try {
    const res = await fetch(endpoint, { method: "POST", headers, body: JSON.stringify(body), signal: abort.signal });
    if (!res.body) return;
    const reader = res.body.getReader();
    let events = 0;
    for (let part = await reader.read(); !part.done; part = await reader.read()) {
      events += countEvents(part.value);
      if (events >= closeAfterEvents) {
        abort.abort();
        break;
      }
    }
  } catch {
    // Aborted or refused: the proxy records what happened; the demo just moves on.
  }
}

function countEvents(part: Uint8Array): number {
  let n = 0;
  for (let i = 1; i < part.length; i++) if (part[i] === 10 && part[i - 1] === 10) n++;
  return n;
}
