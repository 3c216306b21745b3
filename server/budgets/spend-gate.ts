import type { Config } from "../config.ts";
import { ApiError } from "../errors.ts";
import { KeyRing } from "../keys/key-ring.ts";
import { RateLimiter } from "../keys/rate-limiter.ts";
import { callCostCeilNano, callCostNano } from "../money.ts";
import { BudgetExceeded, BudgetGate, type BudgetScopeOf, type Reservation } from "./budget-gate.ts";
import { estimateCall } from "./call-estimate.ts";
import type { KeyEntry, LeaseReport, SpendReport, SpendUpdate } from "./spend-messages.ts";

// Spend control as the serving thread applies it to each /v1 call, from memory only: which key
// the caller holds (key-ring.ts), its rate limits (rate-limiter.ts) and the hard budgets that
// apply (budget-gate.ts). The writer thread keeps the memory current and grants budget room; this
// class speaks to it through one report at a time.

/** An ApiError with extra response headers (retry-after, x-ratelimit-*). */
export class RefusedCall extends ApiError {
  constructor(
    error: ConstructorParameters<typeof ApiError>[0],
    readonly headers: Record<string, string> = {},
  ) {
    super(error);
  }
}

export type CallerAuth = { kind: "passthrough" } | { kind: "key"; key: KeyEntry } | { kind: "refused"; error: RefusedCall };

export interface Admission {
  /** Headers for the caller's answer (x-ratelimit-*). */
  headers: Record<string, string>;
  /** The call ended with this usage: settle its reservation and token charge. */
  settle(usage: { promptTokens: number | null; completionTokens: number | null } | null, rowSeq: number): void;
}

const PASSTHROUGH: CallerAuth = { kind: "passthrough" };
const REPORT_EVERY_MS = 250;
const HEARTBEAT_MS = 1_000;
const REPORT_TIMEOUT_MS = 5_000;

export interface WriterLink {
  postSpend(report: SpendReport): void;
}

export class SpendGate {
  private readonly keys = new KeyRing();
  private readonly limits = new RateLimiter();
  private readonly budgets = new BudgetGate(() => this.maybeReport());
  private prices: Record<string, [number, number]> = {};
  private keysUsed = new Map<string, number>();
  private inFlight: { id: number; leases: LeaseReport[]; at: number } | null = null;
  private lastReport = 0;
  private nextId = 1;
  private link: WriterLink | null = null;
  private committed: () => number = () => 0;
  private timer: NodeJS.Timeout | null = null;

  constructor(
    private readonly config: Pick<Config, "AUTH_MODE" | "UPSTREAM_API_KEY" | "BUDGET_OUTPUT_CAP_TOKENS">,
    private readonly now: () => number,
  ) {}

  /** Start reporting to the writer; `committed` is the count of rows committed so far, in order. */
  connect(link: WriterLink, committed: () => number): void {
    this.link = link;
    this.committed = committed;
    this.timer = setInterval(() => this.tick(), REPORT_EVERY_MS);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
  }

  onUpdate(update: SpendUpdate): void {
    if (update.type === "snapshot") {
      this.keys.replace(update.snapshot.keys);
      this.budgets.replaceRules(update.snapshot.budgets);
      this.prices = update.snapshot.prices;
      return;
    }
    if (!this.inFlight || this.inFlight.id !== update.reportId) return;
    const { leases } = this.inFlight;
    this.inFlight = null;
    this.budgets.applyGrants(update.grants, leases);
    // After the calls woken by the grant have taken their room or queued again (promise jobs).
    setImmediate(() => {
      if (this.budgets.wantsReport) this.report();
    });
  }

  /** Who the caller is, from the Authorization credential (without its scheme). */
  authenticate(credential: string | null, now: number): CallerAuth {
    const mode = this.config.AUTH_MODE;
    if (mode === "passthrough") return PASSTHROUGH;
    if (credential === null || !KeyRing.isKeySecret(credential)) {
      if (mode === "both" && credential !== null) return PASSTHROUGH;
      return refusedAuth(credential === null ? "missing API key: send a tollbooth key as Authorization: Bearer tb_…" : "tollbooth accepts only tollbooth keys (tb_…) here");
    }
    const check = this.keys.check(credential, now);
    if (!check.ok) {
      const why = check.reason === "unknown" ? "Incorrect API key provided" : check.reason === "revoked" ? "This tollbooth key has been revoked" : "This tollbooth key has expired";
      return refusedAuth(why);
    }
    this.keysUsed.set(check.key.keyId, now);
    return { kind: "key", key: check.key };
  }

  /** The Authorization to forward a tollbooth key's call with. */
  upstreamAuthorization(): string {
    return `Bearer ${this.config.UPSTREAM_API_KEY}`;
  }

  /**
   * Model, rate and budget checks of a call about to be forwarded; throws RefusedCall. Null when
   * nothing applies (passthrough callers outside every hard budget).
   */
  admit(auth: CallerAuth, call: BudgetScopeOf & { model: string | null; json: Record<string, unknown> | null; bodyBytes: number }): Admission | null | Promise<Admission> {
    const key = auth.kind === "key" ? auth.key : null;
    if (key?.models && call.model !== null && !key.models.includes(call.model)) {
      throw new RefusedCall({ status: 403, type: "invalid_request_error", code: "model_not_allowed", message: `this key may not call model ${call.model.slice(0, 200)}` });
    }
    const rules = this.budgets.rulesFor(call);
    const limited = key !== null && (key.rpm !== null || key.tpm !== null);
    if (!rules && !limited) return null;

    const now = this.now();
    const estimate = estimateCall(call.json, call.bodyBytes, this.config.BUDGET_OUTPUT_CAP_TOKENS);
    const tokens = estimate.promptTokens + estimate.outputTokens;
    let headers: Record<string, string> = {};
    if (limited) {
      const taken = this.limits.take(key, tokens, now);
      if ("refused" in taken) {
        const r = taken.refused;
        const message = `Rate limit reached for this key on ${r.kind} per min: limit ${r.limit}${r.kind === "tokens" ? `, requested ${tokens}` : ""}. Please try again in ${Math.ceil(r.retryAfterMs / 1000)}s.`;
        throw new RefusedCall({ status: 429, type: r.kind, code: "rate_limit_exceeded", message }, r.headers);
      }
      headers = taken.headers;
    }
    const price = call.model === null ? undefined : this.prices[call.model];
    const admitted = (held: Reservation | null): Admission => ({
      headers,
      settle: (usage, rowSeq) => {
        if (limited) this.limits.refund(key, tokens - ((usage?.promptTokens ?? 0) + (usage?.completionTokens ?? 0)));
        if (held && price) held.settle(usage ? callCostNano(usage.promptTokens, usage.completionTokens, price[0], price[1]) : 0, rowSeq);
      },
    });
    // A model without a price has no cost to hold against a budget (its calls count as unpriced).
    if (!rules || !price) return admitted(null);
    const refused = (exceeded: BudgetExceeded): never => {
      if (limited) this.limits.refund(key, tokens);
      throw new RefusedCall({ status: 429, type: "insufficient_quota", code: "budget_exceeded", message: exceeded.message }, headers);
    };
    const reserved = this.budgets.reserve(rules, callCostCeilNano(estimate.promptTokens, estimate.outputTokens, price[0], price[1]), now);
    if (reserved instanceof Promise) return reserved.then((r) => (r instanceof BudgetExceeded ? refused(r) : admitted(r)));
    return reserved instanceof BudgetExceeded ? refused(reserved) : admitted(reserved);
  }

  private maybeReport(): void {
    if (!this.inFlight) queueMicrotask(() => this.report());
  }

  private tick(): void {
    const now = this.now();
    if (this.inFlight && performance.now() - this.inFlight.at > REPORT_TIMEOUT_MS) {
      this.inFlight = null; // the writer is gone or stuck
      this.budgets.abandonAsks();
    }
    if (this.budgets.wantsReport || now - this.lastReport >= HEARTBEAT_MS) this.report();
  }

  private report(): void {
    if (!this.link || this.inFlight) return;
    const now = this.now();
    this.budgets.committedUpTo(this.committed());
    const leases = this.budgets.leaseReports(now);
    if (leases.length === 0 && this.keysUsed.size === 0) return;
    const report: SpendReport = { id: this.nextId++, leases, keysUsed: [...this.keysUsed] };
    this.keysUsed = new Map();
    this.lastReport = now;
    this.inFlight = { id: report.id, leases, at: performance.now() };
    this.link.postSpend(report);
  }
}

function refusedAuth(message: string): CallerAuth {
  return { kind: "refused", error: new RefusedCall({ status: 401, type: "authentication_error", code: "invalid_api_key", message }) };
}
