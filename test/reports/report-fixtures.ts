import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { openDatabase, type Db } from "../../server/db/open.ts";
import { calls } from "../../server/db/schema.ts";
import type { Logger } from "../../server/log.ts";
import { parseScheduleInput } from "../../server/reports/schedule-input.ts";
import { createSchedule } from "../../server/reports/schedules-store.ts";
import { makeCall } from "../factories.ts";
import { runReports, type ReportsRunResult } from "../../jobs/reports.ts";
import { syncOrm } from "../sync-orm.ts";

// Databases, schedules and ticks for the delivery tests, without an HTTP server: the reports job
// is a plain function of (db, now), so a "process" here is just a connection to the same file.

export const quietLog: Logger = { debug() {}, info() {}, warn() {}, error() {}, enabled: () => false };

export interface TempDb {
  path: string;
  open(): Db;
  remove(): void;
}

export function tempDb(): TempDb {
  const dir = mkdtempSync(join(tmpdir(), "tollbooth-reports-"));
  const path = join(dir, "tollbooth.db");
  return { path, open: () => openDatabase(path), remove: () => rmSync(dir, { recursive: true, force: true }) };
}

export async function addSchedule(db: Db, body: Record<string, unknown>, createdAt: number) {
  const input = parseScheduleInput({ name: "test report", kind: "spend", period: "daily", send_at: "09:00", timezone: "UTC", recipients: ["ops@example.com"], ...body });
  return await createSchedule(db, input, createdAt);
}

export function insertCalls(db: Db, rows: Parameters<typeof makeCall>[0][]): void {
  syncOrm(db).insert(calls).values(rows.map((r) => makeCall(r))).run();
}

export function tick(db: Db, now: number, smtpUrl: string | undefined, log: Logger = quietLog): Promise<ReportsRunResult> {
  return runReports(db, now, { smtpUrl, from: "tollbooth@example.com", publicUrl: "https://tollbooth.example.com", log });
}

export const at = (s: string) => Date.parse(s);

/** For test servers: cron must not tick the reports job on its own; tests drive every send. */
export const QUIET_CRON = { REPORTS_CRON: "0 0 1 1 *" };
