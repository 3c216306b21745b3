import cron, { type ScheduledTask, type TaskContext } from "node-cron";
import type { Clock } from "../server/clock.ts";
import { ConfigError, type Config } from "../server/config.ts";
import type { Db } from "../server/db/database.ts";
import type { Logger } from "../server/log.ts";
import { runPricesSync } from "./prices-sync.ts";
import { runRetention } from "./retention.ts";
import { runRollupInSteps } from "./rollup.ts";
import { runReports } from "./reports.ts";
import { runAlerts } from "./alerts.ts";
import type { JobRunReport } from "../server/observability/writer-metrics.ts";
import { tickClaimsFor, type TickClaims } from "../server/job-runs/tick-claims.ts";

// Wires the job functions to the cron expressions from config. The jobs themselves are plain
// functions (also run by jobs/cli.ts and tests); a failure is logged here and in job_runs, and
// the next tick simply tries again. Every instance on one PostgreSQL database runs this same
// schedule; each tick goes through the tick claim (server/job-runs/tick-claims.ts), so one
// instance does it, and another one does it if that instance dies mid-way.

export interface SchedulerDeps {
  /** The connection, or how to get the current one (the writer thread reconnects after failures). */
  db: Db | (() => Db);
  config: Config;
  clock: Clock;
  log: Logger;
  /** Told of every run, for the job metrics. */
  onRun?: (run: JobRunReport) => void;
  /** Who runs each tick; by default the claims for config.DATABASE_URL's engine. */
  claims?: TickClaims;
}

export interface Scheduler {
  stop(): Promise<void>;
}

export function startScheduler({ db: given, config, clock, log, onRun, claims = tickClaimsFor(config.DATABASE_URL) }: SchedulerDeps): Scheduler {
  const connection = typeof given === "function" ? given : () => given;
  const jobs: [name: string, setting: "ROLLUP_CRON" | "PRICES_SYNC_CRON" | "RETENTION_CRON" | "REPORTS_CRON" | "ALERTS_CRON", run: () => Promise<unknown>][] = [
    ["rollup", "ROLLUP_CRON", () => runRollupInSteps(connection(), clock.now())],
    [
      "prices-sync",
      "PRICES_SYNC_CRON",
      () => runPricesSync(connection(), clock.now(), { baseUrl: config.UPSTREAM_BASE_URL, apiKey: config.UPSTREAM_API_KEY, log }),
    ],
    [
      "retention",
      "RETENTION_CRON",
      () => runRetention(connection(), clock.now(), { bodiesDays: config.RETENTION_BODIES_DAYS, callsDays: config.RETENTION_CALLS_DAYS }),
    ],
    [
      "reports",
      "REPORTS_CRON",
      () => runReports(connection(), clock.now(), { smtpUrl: config.SMTP_URL, from: config.REPORT_FROM, publicUrl: config.PUBLIC_URL, log }),
    ],
    ["alerts", "ALERTS_CRON", () => runAlerts(connection(), clock.now(), { smtpUrl: config.SMTP_URL, from: config.REPORT_FROM, tz: config.REPORT_TZ })],
  ];
  for (const [, setting] of jobs) {
    if (!cron.validate(config[setting])) {
      throw new ConfigError(`invalid config: ${setting}: "${config[setting]}" is not a cron expression (e.g. "* * * * *")`);
    }
  }
  const tasks: ScheduledTask[] = jobs.map(([name, setting, run]) =>
    cron.schedule(
      config[setting],
      async (context: TaskContext) => {
        // The instant cron scheduled this tick for, not when the timer fired: the same tick on
        // every instance, so the claim can tell that another one already did it.
        const tick = context.date.getTime();
        const startedAt = clock.now();
        const t0 = performance.now();
        let ok = true;
        try {
          const outcome = await claims.runOnce(name, tick, run);
          if (!outcome.ran) {
            log.debug(`job ${name} tick not run here (${outcome.why})`, { job: name });
            return;
          }
          // A rollup tick with nothing new runs every 10 s: news only at debug level.
          const rows = (outcome.result as { calls?: unknown } | undefined)?.calls;
          const quiet = name === "rollup" && rows === 0;
          log[quiet ? "debug" : "info"](`job ${name} done`, { job: name, durationMs: Math.round(performance.now() - t0), ...(typeof rows === "number" ? { rows } : {}) });
        } catch (err) {
          ok = false;
          log.error(`job ${name} failed: ${err instanceof Error ? err.message : String(err)}`, { job: name, durationMs: Math.round(performance.now() - t0) });
        }
        onRun?.({ job: name, ok, startedAt, durationMs: performance.now() - t0 });
      },
      // noOverlap: a slow run (a long rebuild, a hanging /models) is not stacked on by the next tick.
      { name: `tollbooth-${name}`, noOverlap: true },
    ),
  );
  return {
    async stop() {
      for (const task of tasks) await task.destroy();
      await claims.close();
    },
  };
}
