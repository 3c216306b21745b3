import { asc, eq } from "drizzle-orm";
import { z } from "zod";
import type { Db } from "../db/database.ts";
import { reportSchedules, type ReportSchedule } from "../db/schema.ts";
import { toIso } from "../time.ts";
import { REPORT_PERIODS, nextRunAt } from "./schedule.ts";
import { REPORT_KINDS, type ReportFilter, type ScheduleInput, type SchedulePatch } from "./schedule-input.ts";

// report_schedules rows and their JSON shape. Recipients and filter are JSON text columns: they
// are only ever read whole, never queried into.

/** Schedules are made by hand, so a list stays small; the cap keeps it bounded anyway. */
const MAX_SCHEDULES = 500;

export const scheduleJsonSchema = z.object({
  id: z.number().int(),
  name: z.string(),
  kind: z.enum(REPORT_KINDS),
  period: z.enum(REPORT_PERIODS),
  send_at: z.string().meta({ description: "Local time HH:MM in timezone" }),
  timezone: z.string(),
  recipients: z.array(z.string()),
  filter: z.object({ team: z.string().optional(), project: z.string().optional(), model: z.string().optional() }).nullable(),
  enabled: z.boolean(),
  next_run_at: z.string().nullable().meta({ description: "ISO UTC; null while disabled" }),
  created_at: z.string(),
  updated_at: z.string(),
});
export type ScheduleJson = z.infer<typeof scheduleJsonSchema>;

export function recipientsOf(row: ReportSchedule): string[] {
  return JSON.parse(row.recipients) as string[];
}

export function filterOf(row: ReportSchedule): ReportFilter | null {
  return row.filter === null ? null : (JSON.parse(row.filter) as ReportFilter);
}

export function scheduleJson(row: ReportSchedule, now: number): ScheduleJson {
  return {
    id: row.id,
    name: row.name,
    kind: row.kind,
    period: row.period,
    send_at: row.sendAt,
    timezone: row.timezone,
    recipients: recipientsOf(row),
    filter: filterOf(row),
    enabled: row.enabled,
    next_run_at: row.enabled ? toIso(nextRunAt(row, now)) : null,
    created_at: toIso(row.createdAt),
    updated_at: toIso(row.updatedAt),
  };
}

export async function createSchedule(db: Db, input: ScheduleInput, now: number): Promise<ReportSchedule> {
  const [row] = await db.orm
    .insert(reportSchedules)
    .values({
      name: input.name,
      kind: input.kind,
      period: input.period,
      sendAt: input.send_at,
      timezone: input.timezone,
      recipients: JSON.stringify(input.recipients),
      filter: input.filter ? JSON.stringify(input.filter) : null,
      enabled: input.enabled,
      activeFrom: now,
      createdAt: now,
      updatedAt: now,
    })
    .returning();
  return row!;
}

export async function getSchedule(db: Db, id: number): Promise<ReportSchedule | undefined> {
  const [row] = await db.orm.select().from(reportSchedules).where(eq(reportSchedules.id, id));
  return row;
}

export function listSchedules(db: Db, opts: { enabledOnly?: boolean } = {}): Promise<ReportSchedule[]> {
  return db.orm
    .select()
    .from(reportSchedules)
    .where(opts.enabledOnly ? eq(reportSchedules.enabled, true) : undefined)
    .orderBy(asc(reportSchedules.id))
    .limit(MAX_SCHEDULES);
}

/**
 * Apply a patch. A change of period, time or zone, or switching the schedule back on, moves
 * active_from to now: catch-up then starts afresh instead of mailing periods from before.
 */
export async function updateSchedule(db: Db, current: ReportSchedule, patch: SchedulePatch, now: number): Promise<ReportSchedule> {
  const retimed =
    (patch.period !== undefined && patch.period !== current.period) ||
    (patch.send_at !== undefined && patch.send_at !== current.sendAt) ||
    (patch.timezone !== undefined && patch.timezone !== current.timezone) ||
    (patch.enabled === true && !current.enabled);
  const [row] = await db.orm
    .update(reportSchedules)
    .set({
      ...(patch.name !== undefined ? { name: patch.name } : {}),
      ...(patch.kind !== undefined ? { kind: patch.kind } : {}),
      ...(patch.period !== undefined ? { period: patch.period } : {}),
      ...(patch.send_at !== undefined ? { sendAt: patch.send_at } : {}),
      ...(patch.timezone !== undefined ? { timezone: patch.timezone } : {}),
      ...(patch.recipients !== undefined ? { recipients: JSON.stringify(patch.recipients) } : {}),
      ...(patch.filter !== undefined ? { filter: patch.filter ? JSON.stringify(patch.filter) : null } : {}),
      ...(patch.enabled !== undefined ? { enabled: patch.enabled } : {}),
      ...(retimed ? { activeFrom: now } : {}),
      updatedAt: now,
    })
    .where(eq(reportSchedules.id, current.id))
    .returning();
  return row!;
}

/** Deletes the schedule and (ON DELETE CASCADE) its deliveries. */
export async function deleteSchedule(db: Db, id: number): Promise<boolean> {
  const deleted = await db.orm.delete(reportSchedules).where(eq(reportSchedules.id, id)).returning({ id: reportSchedules.id });
  return deleted.length > 0;
}
