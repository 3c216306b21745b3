import { runBudgetAlerts, type AlertsRunResult } from "../server/alerts/budget-alerts.ts";
import type { Db } from "../server/db/open.ts";
import { createMailer } from "../server/reports/mailer.ts";

// The alerts job, run by cron (ALERTS_CRON) and by tests with a pinned `now`: budget soft
// thresholds crossed this period fire once each, through the report mailer and webhooks.

export async function runAlerts(db: Db, now: number, opts: { smtpUrl: string | undefined; from: string }): Promise<AlertsRunResult> {
  const mailer = opts.smtpUrl ? createMailer(opts.smtpUrl, opts.from) : null;
  try {
    return await runBudgetAlerts(db, now, mailer);
  } finally {
    mailer?.close();
  }
}
