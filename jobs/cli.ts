import { loadConfigOrReport } from "../server/config.ts";
import { connectDatabase } from "../server/db/connect.ts";
import type { Db } from "../server/db/database.ts";
import { sqliteClient } from "../server/db/sqlite.ts";
import { createLogger } from "../server/log.ts";
import { toIso } from "../server/time.ts";
import { runPricesSync } from "./prices-sync.ts";
import { runRetention } from "./retention.ts";
import { runRollup, runRollupRebuild } from "./rollup.ts";
import { runReports } from "./reports.ts";

// npm run job -- rollup [--rebuild] | prices-sync | retention | reports
// Runs one job once against DATABASE_URL and prints one line; exit 1 if the job failed,
// 2 on a usage or config error. Same functions as the cron scheduler, so a run here is a real run.

const USAGE = "usage: npm run job -- rollup [--rebuild] | prices-sync | retention | reports";

async function main(): Promise<number> {
  const [job, ...flags] = process.argv.slice(2);
  const allowedFlags = job === "rollup" ? ["--rebuild"] : [];
  const badFlag = flags.find((f) => !allowedFlags.includes(f));
  if (!job || !["rollup", "prices-sync", "retention", "reports"].includes(job) || badFlag) {
    console.error(badFlag ? `unknown option ${badFlag}\n${USAGE}` : USAGE);
    return 2;
  }
  const config = loadConfigOrReport(process.env);
  if (!config) return 2;
  const log = createLogger(config.LOG_LEVEL);
  let db: Db;
  try {
    db = await connectDatabase(config.DATABASE_URL, { poolMax: config.PG_POOL_MAX });
  } catch (err) {
    console.error(err instanceof Error ? err.message : String(err)); // one line, the password masked
    return 2;
  }
  // A job started by hand may find another one (the server's cron rollup, a rebuild) holding the
  // write lock for longer than the 5 s the server's connection waits: wait, rather than fail.
  // (On PostgreSQL it waits on the same locks with no timeout.) A run by hand takes no tick
  // claim: it is not a tick, and every job is safe beside a scheduled run of itself.
  if (db.dialect === "sqlite") sqliteClient(db).pragma("busy_timeout = 120000");
  const now = Date.now();
  try {
    if (job === "rollup" && flags.includes("--rebuild")) {
      const r = await runRollupRebuild(db, now);
      console.log(`rollup --rebuild: ${r.calls} calls re-aggregated from ${toIso(r.from)}, watermark ${r.watermark}`);
    } else if (job === "rollup") {
      const r = await runRollup(db, now);
      console.log(`rollup: ${r.calls} calls rolled up, watermark ${r.watermark}`);
    } else if (job === "prices-sync") {
      const r = await runPricesSync(db, now, { baseUrl: config.UPSTREAM_BASE_URL, apiKey: config.UPSTREAM_API_KEY, log });
      console.log(
        r.ran
          ? `prices-sync: ${r.added.length} prices added, ${r.unchanged} unchanged, ${r.adminKept} kept (admin price), ${r.skipped} skipped`
          : "prices-sync: skipped, UPSTREAM_API_KEY is not set",
      );
    } else if (job === "reports") {
      const r = await runReports(db, now, { smtpUrl: config.SMTP_URL, from: config.REPORT_FROM, publicUrl: config.PUBLIC_URL, log });
      console.log(`reports: ${r.sent} sent, ${r.notSent} not sent (no SMTP_URL), ${r.failed} failed, ${r.skipped} skipped`);
      if (r.failed > 0) return 1;
    } else {
      const r = await runRetention(db, now, { bodiesDays: config.RETENTION_BODIES_DAYS, callsDays: config.RETENTION_CALLS_DAYS });
      console.log(`retention: ${r.bodiesDeleted} bodies deleted (before ${toIso(r.bodiesBefore)}), ${r.callsDeleted} calls deleted (before ${toIso(r.callsBefore)})`);
    }
    return 0;
  } catch (err) {
    console.error(`${job} failed: ${err instanceof Error ? err.message : String(err)}`);
    return 1;
  } finally {
    await db.close();
  }
}

process.exitCode = await main();
