import type { KeyEntry } from "../budgets/spend-messages.ts";

// Requests and tokens per minute of each tollbooth key, as token buckets that refill
// continuously (a key with rpm 600 gets 10 requests a second back, up to 600 at once). Kept in
// the serving thread's memory, per instance: with N instances behind a balancer a key may get up
// to N × its limit. Tokens are charged at the call's upper bound (prompt bound + max_tokens, as
// OpenAI counts them) and the unused part is given back when the call ends.

interface Bucket {
  requests: number;
  tokens: number;
  at: number;
}

export interface LimitRefusal {
  kind: "requests" | "tokens";
  limit: number;
  retryAfterMs: number;
  headers: Record<string, string>;
}

const MINUTE = 60_000;

export class RateLimiter {
  private readonly buckets = new Map<string, Bucket>();

  /** Take one request and `tokens` for the key; the headers to send either way. */
  take(key: KeyEntry, tokens: number, now: number): { headers: Record<string, string> } | { refused: LimitRefusal } {
    if (key.rpm === null && key.tpm === null) return { headers: {} };
    const b = this.refill(key, now);
    const rpm = key.rpm ?? Number.POSITIVE_INFINITY;
    const tpm = key.tpm ?? Number.POSITIVE_INFINITY;
    if (key.rpm !== null && b.requests < 1) return { refused: this.refusal(key, b, "requests", rpm, 1) };
    // A call asking for more than a whole minute's tokens could never run: it is refused as such.
    if (key.tpm !== null && b.tokens < tokens) return { refused: this.refusal(key, b, "tokens", tpm, tokens) };
    b.requests -= 1;
    b.tokens -= tokens;
    return { headers: this.headers(key, b) };
  }

  /** Give back tokens charged but not used. */
  refund(key: KeyEntry, tokens: number): void {
    const b = this.buckets.get(key.keyId);
    if (b && key.tpm !== null && tokens > 0) b.tokens = Math.min(key.tpm, b.tokens + tokens);
  }

  private refill(key: KeyEntry, now: number): Bucket {
    let b = this.buckets.get(key.keyId);
    if (!b) {
      b = { requests: key.rpm ?? 0, tokens: key.tpm ?? 0, at: now };
      this.buckets.set(key.keyId, b);
      return b;
    }
    const elapsed = Math.max(0, now - b.at);
    b.at = now;
    if (key.rpm !== null) b.requests = Math.min(key.rpm, b.requests + (elapsed * key.rpm) / MINUTE);
    if (key.tpm !== null) b.tokens = Math.min(key.tpm, b.tokens + (elapsed * key.tpm) / MINUTE);
    return b;
  }

  private refusal(key: KeyEntry, b: Bucket, kind: "requests" | "tokens", limit: number, need: number): LimitRefusal {
    const have = kind === "requests" ? b.requests : b.tokens;
    const retryAfterMs = need > limit ? MINUTE : Math.ceil(((need - have) * MINUTE) / limit);
    const headers = this.headers(key, b);
    headers["retry-after"] = String(Math.max(1, Math.ceil(retryAfterMs / 1000)));
    return { kind, limit, retryAfterMs, headers };
  }

  /** OpenAI's names: limit, remaining and time until the bucket is full again. */
  private headers(key: KeyEntry, b: Bucket): Record<string, string> {
    const out: Record<string, string> = {};
    if (key.rpm !== null) {
      out["x-ratelimit-limit-requests"] = String(key.rpm);
      out["x-ratelimit-remaining-requests"] = String(Math.floor(b.requests));
      out["x-ratelimit-reset-requests"] = seconds(((key.rpm - b.requests) * MINUTE) / key.rpm);
    }
    if (key.tpm !== null) {
      out["x-ratelimit-limit-tokens"] = String(key.tpm);
      out["x-ratelimit-remaining-tokens"] = String(Math.floor(b.tokens));
      out["x-ratelimit-reset-tokens"] = seconds(((key.tpm - b.tokens) * MINUTE) / key.tpm);
    }
    return out;
  }
}

function seconds(ms: number): string {
  return `${(Math.max(0, ms) / 1000).toFixed(3).replace(/\.?0+$/, "")}s`;
}
