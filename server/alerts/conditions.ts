import { DateTime } from "luxon";
import { budgetStanding, getBudget, listBudgets, soft } from "../budgets/budgets-store.ts";
import type { Db } from "../db/database.ts";
import type { AlertRule, Budget } from "../db/schema.ts";
import { formatNanoAsDollars, formatNanoAsUsd } from "../money.ts";
import { BUCKET_MS, floorTo, HOUR_MS, toIso } from "../time.ts";
import { formatBasisPoints, formatThreshold } from "./thresholds.ts";
import { firstRecordedBucket, recentSpendNano, rolledUpSpendNano, windowErrors, windowP95 } from "./traffic-figures.ts";

// What each rule kind watches, read at `now`: one Observation per subject (a budget and one of
// its thresholds, a budget, or "all" traffic), saying whether the condition holds and how to word
// its firing and its resolution. run-alerts.ts turns changes of `active` into events.

interface Wording {
  title: string;
  body: string;
}

export interface Observation {
  subject: string;
  active: boolean;
  /** The figure against the limit, as shown in history ("$2.50 of $10.00"). */
  value: string;
  fired: Wording;
  resolved: Wording;
  /** Figures for the JSON webhook body (the runner adds event, status, rule and time). */
  figures: Record<string, unknown>;
}

export interface ObserveContext {
  /** Zone of "the same hour of the week" for spend_anomaly (REPORT_TZ). */
  tz: string;
}

/** A window's rate or percentile is only judged on at least this many calls: 1 failure in 2 calls is not a 50 % error rate. */
const MIN_WINDOW_CALLS = 10;
/** spend_anomaly compares with at most this many past weeks. */
const ANOMALY_WEEKS = 4;
/**
 * A projection is judged once this share of the period has passed (5 %: 36 hours of a month,
 * 72 minutes of a day), or earlier once spend alone passes the limit: a straight line through
 * the first minutes of a period swings by orders of magnitude with each call.
 */
const PROJECTION_MIN_ELAPSED = 0.05;

export async function observe(db: Db, rule: AlertRule, now: number, ctx: ObserveContext): Promise<Observation[]> {
  switch (rule.kind) {
    case "budget_threshold": {
      const out: Observation[] = [];
      for (const b of await watchedBudgets(db, rule)) out.push(...(await thresholdObservations(db, b, now)));
      return out;
    }
    case "budget_projection": {
      const out: Observation[] = [];
      for (const b of await watchedBudgets(db, rule)) out.push(await projectionObservation(db, b, rule.threshold ?? 10_000, now));
      return out;
    }
    case "error_rate":
      return [await errorRateObservation(db, rule, now)];
    case "latency_p95":
      return [await latencyObservation(db, rule, now)];
    case "spend_anomaly":
      return [await anomalyObservation(db, rule, now, ctx.tz)];
  }
}

async function watchedBudgets(db: Db, rule: AlertRule): Promise<Budget[]> {
  if (rule.budgetId === null) return listBudgets(db);
  const b = await getBudget(db, rule.budgetId);
  return b ? [b] : [];
}

const who = (b: Budget) => `${b.scope} ${b.target}`;

async function thresholdObservations(db: Db, budget: Budget, now: number): Promise<Observation[]> {
  const s = await budgetStanding(db, budget, now);
  const amount = BigInt(budget.amountNano);
  const spent = `${formatNanoAsDollars(s.spentNano)} of ${formatNanoAsDollars(amount)}`;
  const since = `${budget.period}, from ${toIso(s.periodStart)}`;
  return soft(budget).map((t) => {
    const bp = Math.round(t * 100);
    return {
      subject: `budget:${budget.id}:${bp}`,
      // A threshold stays crossed for the rest of its period; the next period, or a raised amount, resolves it.
      active: s.spentNano * 10_000n >= amount * BigInt(bp),
      value: spent,
      fired: { title: `tollbooth: ${who(budget)} past ${t}% of its ${budget.period} budget`, body: `Budget for ${who(budget)} is past ${t}%: ${spent} (${since}).` },
      resolved: { title: `tollbooth: ${who(budget)} back under ${t}% of its ${budget.period} budget`, body: `Budget for ${who(budget)} is back under ${t}%: ${spent} (${since}).` },
      figures: {
        budget_id: budget.id,
        scope: budget.scope,
        target: budget.target,
        period: budget.period,
        period_start: toIso(s.periodStart),
        threshold: t,
        amount_usd: formatNanoAsUsd(amount),
        spent_usd: formatNanoAsUsd(s.spentNano),
      },
    };
  });
}

async function projectionObservation(db: Db, budget: Budget, thresholdBp: number, now: number): Promise<Observation> {
  const s = await budgetStanding(db, budget, now);
  const amount = BigInt(budget.amountNano);
  const limit = (amount * BigInt(thresholdBp)) / 10_000n;
  const judged = (now - s.periodStart) / (s.periodEnd - s.periodStart) >= PROJECTION_MIN_ELAPSED || s.spentNano > limit;
  const pct = formatThreshold("budget_projection", thresholdBp);
  const value = `projected ${formatNanoAsDollars(s.projectedNano)} of ${formatNanoAsDollars(amount)} (spent ${formatNanoAsDollars(s.spentNano)})`;
  const ends = `by ${toIso(s.periodEnd)}`;
  return {
    subject: `budget:${budget.id}`,
    active: judged && s.projectedNano > limit,
    value,
    fired: {
      title: `tollbooth: ${who(budget)} is on course to pass ${pct} of its ${budget.period} budget`,
      body: `At this rate ${who(budget)} spends ${formatNanoAsDollars(s.projectedNano)} ${ends}, over ${pct} of its ${formatNanoAsDollars(amount)} ${budget.period} budget (spent so far: ${formatNanoAsDollars(s.spentNano)}).`,
    },
    resolved: {
      title: `tollbooth: ${who(budget)} is no longer on course to pass ${pct} of its ${budget.period} budget`,
      body: `${who(budget)} is now projected to spend ${formatNanoAsDollars(s.projectedNano)} ${ends}, within ${pct} of its ${formatNanoAsDollars(amount)} ${budget.period} budget.`,
    },
    figures: {
      budget_id: budget.id,
      scope: budget.scope,
      target: budget.target,
      period: budget.period,
      period_start: toIso(s.periodStart),
      period_end: toIso(s.periodEnd),
      amount_usd: formatNanoAsUsd(amount),
      spent_usd: formatNanoAsUsd(s.spentNano),
      projected_usd: formatNanoAsUsd(s.projectedNano),
      threshold_percent: thresholdBp / 100,
    },
  };
}

async function errorRateObservation(db: Db, rule: AlertRule, now: number): Promise<Observation> {
  const minutes = rule.windowMinutes ?? 15;
  const limitBp = rule.threshold ?? 0;
  const { calls, errors } = await windowErrors(db, now - minutes * 60_000, now);
  const rateBp = calls === 0 ? 0 : Math.round((errors * 10_000) / calls);
  const value = `${formatBasisPoints(rateBp)} of ${calls} calls (${errors} failed)`;
  const limit = formatBasisPoints(limitBp);
  return {
    subject: "all",
    // errors / calls > limit, in integers.
    active: calls >= MIN_WINDOW_CALLS && errors * 10_000 > calls * limitBp,
    value,
    fired: { title: `tollbooth: error rate ${formatBasisPoints(rateBp)} over ${limit} in the last ${minutes} min`, body: `${errors} of ${calls} calls failed in the last ${minutes} minutes (${formatBasisPoints(rateBp)}; the rule's limit is ${limit}).` },
    resolved: { title: `tollbooth: error rate back under ${limit}`, body: `Error rate in the last ${minutes} minutes: ${value}; the rule's limit is ${limit}.` },
    figures: { window_minutes: minutes, calls, errors, error_rate_percent: rateBp / 100, threshold_percent: limitBp / 100 },
  };
}

async function latencyObservation(db: Db, rule: AlertRule, now: number): Promise<Observation> {
  const minutes = rule.windowMinutes ?? 15;
  const limitMs = rule.threshold ?? 0;
  const { calls, p95Ms } = await windowP95(db, now - minutes * 60_000, now);
  const value = p95Ms === null ? `no successful calls` : `p95 ${p95Ms} ms over ${calls} calls`;
  return {
    subject: "all",
    active: calls >= MIN_WINDOW_CALLS && p95Ms !== null && p95Ms > limitMs,
    value,
    fired: { title: `tollbooth: p95 latency ${p95Ms} ms over ${limitMs} ms in the last ${minutes} min`, body: `The 95th percentile of the ${calls} successful calls of the last ${minutes} minutes took ${p95Ms} ms (the rule's limit is ${limitMs} ms).` },
    resolved: { title: `tollbooth: p95 latency back under ${limitMs} ms`, body: `Latency in the last ${minutes} minutes: ${value}; the rule's limit is ${limitMs} ms.` },
    figures: { window_minutes: minutes, calls, p95_ms: p95Ms, threshold_ms: limitMs },
  };
}

/**
 * Spend of the last 60 minutes against its usual rate for that hour of the week. "Usual" is the
 * median spend of the same 60 minutes of wall-clock time (in `tz`, so office hours stay office
 * hours across DST) in each of the last ANOMALY_WEEKS weeks that tollbooth was already recording
 * (slots before the first rollup bucket do not count), read from the rollups with the slot's
 * edges floored to 15 minutes. The median, not the mean, so one past spike does not raise the bar
 * for a month. With no past week recorded, or a usual of $0 (an hour that is always idle), there
 * is nothing to compare with and the rule does not fire.
 */
async function anomalyObservation(db: Db, rule: AlertRule, now: number, tz: string): Promise<Observation> {
  const factor = rule.threshold ?? 0; // hundredths
  const lastHour = await recentSpendNano(db, now - HOUR_MS, now);
  const first = await firstRecordedBucket(db);
  const past: bigint[] = [];
  for (let k = 1; k <= ANOMALY_WEEKS; k++) {
    const end = floorTo(DateTime.fromMillis(now, { zone: tz }).minus({ weeks: k }).toMillis(), BUCKET_MS);
    const start = end - HOUR_MS;
    if (first === null || start < first) continue;
    past.push(await rolledUpSpendNano(db, start, end));
  }
  const usual = median(past);
  const ratio = usual > 0n ? Number((lastHour * 100n) / usual) / 100 : null;
  const limit = formatThreshold("spend_anomaly", factor);
  const value = usual > 0n ? `${formatNanoAsDollars(lastHour)} in the last hour, ${ratio}× the usual ${formatNanoAsDollars(usual)}` : `${formatNanoAsDollars(lastHour)} in the last hour, no usual spend to compare with`;
  return {
    subject: "all",
    active: usual > 0n && lastHour * 100n > usual * BigInt(factor),
    value,
    fired: {
      title: `tollbooth: spend in the last hour is ${ratio}× its usual rate`,
      body: `${formatNanoAsDollars(lastHour)} was spent in the last hour; this hour of the week usually costs ${formatNanoAsDollars(usual)} (median of ${past.length} past weeks). The rule fires above ${limit}.`,
    },
    resolved: { title: `tollbooth: spend back under ${limit} its usual rate`, body: `${value}; the rule fires above ${limit}.` },
    figures: { spent_last_hour_usd: formatNanoAsUsd(lastHour), usual_usd: formatNanoAsUsd(usual), weeks: past.length, ratio, threshold_factor: factor / 100 },
  };
}

function median(values: bigint[]): bigint {
  if (values.length === 0) return 0n;
  const sorted = [...values].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2n;
}
