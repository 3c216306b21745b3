import { runAlertRules, type AlertsRunResult } from "../server/alerts/run-alerts.ts";
import type { Db } from "../server/db/database.ts";
import { createMailer } from "../server/reports/mailer.ts";

// The alerts job, run by cron (ALERTS_CRON) and by tests with a pinned `now`: every enabled rule
// is read at `now`, each change of its condition fires or resolves once, and due events are sent
// through the report mailer and webhooks.

export async function runAlerts(db: Db, now: number, opts: { smtpUrl: string | undefined; from: string; tz?: string }): Promise<AlertsRunResult> {
  const mailer = opts.smtpUrl ? createMailer(opts.smtpUrl, opts.from) : null;
  try {
    return await runAlertRules(db, now, mailer, { tz: opts.tz ?? "UTC" });
  } finally {
    mailer?.close();
  }
}
