import type { Db } from "../server/db/database.ts";
import type { ReportSchedule } from "../server/db/schema.ts";
import type { Logger } from "../server/log.ts";
import { deliverClaim, type DeliveryDeps, type DeliveryJob } from "../server/reports/deliver.ts";
import { claimPeriod, claimedPeriodStarts, dueForRetry, getDelivery, reclaim, recordSkipped } from "../server/reports/deliveries-store.ts";
import { createMailer } from "../server/reports/mailer.ts";
import { CATCH_UP_PERIODS, PERIOD_UNIT, periodsDue, periodsTooOld, type DuePeriod } from "../server/reports/schedule.ts";
import { getSchedule, listSchedules } from "../server/reports/schedules-store.ts";
import { startJobRun } from "../server/job-runs/job-runs.ts";
import { periodLabel } from "../server/time.ts";

// The reports job, run by cron every minute (REPORTS_CRON), by `npm run job -- reports` and by
// tests with a pinned `now`. Each tick sends every period that is due and has no delivery row
// yet (bounded catch-up) and retries failed rows whose backoff has passed. Every send starts
// with an atomic claim of its row, so a restart, a second process or an overlapping tick never
// sends a period twice.

export interface ReportsJobOptions {
  smtpUrl: string | undefined;
  from: string;
  publicUrl: string | undefined;
  log: Logger;
}

export interface ReportsRunResult {
  sent: number;
  notSent: number;
  failed: number;
  skipped: number;
  /** Periods or retries another runner claimed first. */
  lostRaces: number;
}

/** Retries taken over per tick; the rest wait for the next minute. */
const RETRIES_PER_TICK = 50;

interface Candidate {
  schedule: ReportSchedule;
  period: DuePeriod;
}

/** Due periods without a row; missed periods beyond the catch-up window are recorded as skipped. */
async function planTick(db: Db, now: number, log: Logger, result: ReportsRunResult): Promise<Candidate[]> {
  const candidates: Candidate[] = [];
  for (const schedule of await listSchedules(db, { enabledOnly: true })) {
    const due = periodsDue(schedule, schedule.activeFrom, now);
    const oldest = due.at(-1);
    if (!oldest) continue;
    let taken = await claimedPeriodStarts(db, schedule.id, oldest.start);
    // A full window whose oldest period was never claimed means tollbooth was down for longer
    // than the window: record what fell out of it, once.
    if (due.length === CATCH_UP_PERIODS && !taken.has(oldest.start)) {
      const tooOld = periodsTooOld(schedule, schedule.activeFrom, oldest);
      if (tooOld.length > 0) taken = await claimedPeriodStarts(db, schedule.id, tooOld.at(-1)!.start);
      for (const p of tooOld) {
        if (taken.has(p.start)) continue;
        const reason = `skipped: more than ${CATCH_UP_PERIODS} periods behind (catch-up after downtime is bounded)`;
        if (await recordSkipped(db, schedule.id, p, now, reason)) {
          result.skipped++;
          const label = periodLabel(PERIOD_UNIT[schedule.period], p.start, schedule.timezone);
          log.warn(`reports: "${schedule.name}" (schedule ${schedule.id}) ${label}: ${reason}`);
        }
      }
    }
    // Oldest first, so a catch-up arrives in calendar order.
    for (const period of [...due].reverse()) if (!taken.has(period.start)) candidates.push({ schedule, period });
  }
  return candidates;
}

export async function runReports(db: Db, now: number, opts: ReportsJobOptions): Promise<ReportsRunResult> {
  const result: ReportsRunResult = { sent: 0, notSent: 0, failed: 0, skipped: 0, lostRaces: 0 };
  const candidates = await planTick(db, now, opts.log, result);
  const retries = await dueForRetry(db, now, RETRIES_PER_TICK);
  if (candidates.length === 0 && retries.length === 0) return result;

  // Only ticks with work are logged in job_runs: a quiet minute is not news.
  const run = await startJobRun(db, "reports", now);
  const mailer = opts.smtpUrl ? createMailer(opts.smtpUrl, opts.from) : null;
  const deps: DeliveryDeps = { db, log: opts.log, mailer, from: opts.from, publicUrl: opts.publicUrl };
  const deliver = async (job: DeliveryJob) => {
    const outcome = await deliverClaim(deps, job, now);
    if (outcome.status === "sent") result.sent++;
    else if (outcome.status === "not_sent") result.notSent++;
    else result.failed++;
  };
  try {
    // Claim right before sending (not all up front), so a long queue cannot outlive its leases.
    for (const { schedule, period } of candidates) {
      const claim = await claimPeriod(db, schedule.id, period, now);
      if (!claim) result.lostRaces++;
      else await deliver({ schedule, claim, range: period, trigger: "schedule" });
    }
    for (const seen of retries) {
      const claim = await reclaim(db, seen, now);
      const row = claim && (await getDelivery(db, claim.id));
      const schedule = row && (await getSchedule(db, row.scheduleId));
      if (!claim || !row || !schedule) result.lostRaces++;
      else await deliver({ schedule, claim, range: { start: row.periodStart, end: row.periodEnd }, trigger: row.trigger });
    }
  } catch (err) {
    await run.fail(err);
    throw err;
  } finally {
    mailer?.close();
  }
  if (result.failed > 0) await run.fail(new Error(`${result.failed} report email(s) failed; see /reports`));
  else await run.succeed(result.sent + result.notSent);
  return result;
}
