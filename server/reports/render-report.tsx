import type { Db } from "../db/database.ts";
import type { ReportSchedule } from "../db/schema.ts";
import { periodLabel } from "../time.ts";
import type { RenderedReport } from "./deliveries-store.ts";
import { failuresData } from "./failures-data.ts";
import { toHtmlDocument } from "./render/email-parts.tsx";
import { FailuresEmail } from "./render/failures-email.tsx";
import { failuresText } from "./render/failures-text.ts";
import { failuresView } from "./render/failures-view.ts";
import { isCalendarPeriod, periodNames } from "./render/period-name.ts";
import { SpendEmail } from "./render/spend-email.tsx";
import { spendText } from "./render/spend-text.ts";
import { spendView } from "./render/spend-view.ts";
import { PERIOD_UNIT, previousPeriod, type ReportRange } from "./schedule.ts";
import { filterOf } from "./schedules-store.ts";
import type { ReportScope } from "./spend-data.ts";
import { spendData } from "./spend-data.ts";
import { listKeyNames } from "../keys/key-names-store.ts";

// One schedule + one range → subject, HTML, text and CSV. Used by the scheduled job, by
// "send now" and by the preview, so what is previewed is what is sent.

export interface ReportEmail extends RenderedReport {
  csvFilename: string;
}

/** The comparison range: the calendar period before, or as long again before a hand-picked range. */
function comparisonRange(schedule: ReportSchedule, range: ReportRange): ReportRange {
  if (isCalendarPeriod(schedule.period, range, schedule.timezone)) return previousPeriod(schedule, range);
  return { start: range.start - (range.end - range.start), end: range.start };
}

function csvFilename(schedule: ReportSchedule, range: ReportRange): string {
  const unit = PERIOD_UNIT[schedule.period];
  const tz = schedule.timezone;
  const label = isCalendarPeriod(schedule.period, range, tz)
    ? periodLabel(unit, range.start, tz)
    : `${periodLabel("day", range.start, tz)}_${periodLabel("day", range.end, tz)}`;
  return `tollbooth-${schedule.kind}-${label}.csv`;
}

export async function renderReport(db: Db, schedule: ReportSchedule, range: ReportRange, publicUrl: string | undefined): Promise<ReportEmail> {
  const scope: ReportScope = { range, previous: comparisonRange(schedule, range), tz: schedule.timezone, filter: filterOf(schedule) };
  const names = periodNames(schedule.period, range, schedule.timezone);
  const filename = csvFilename(schedule, range);
  if (schedule.kind === "spend") {
    const data = await spendData(db, scope, publicUrl, await listKeyNames(db));
    const view = spendView(data, names);
    const html = await toHtmlDocument(<SpendEmail data={data} view={view} names={names} scheduleName={schedule.name} />);
    return { subject: view.subject, html, text: spendText(data, view, names, schedule.name), csv: data.csv, csvFilename: filename };
  }
  const data = await failuresData(db, scope, publicUrl);
  const view = failuresView(data, names);
  const html = await toHtmlDocument(<FailuresEmail data={data} view={view} names={names} scheduleName={schedule.name} />);
  return { subject: view.subject, html, text: failuresText(data, view, names, schedule.name), csv: data.csv, csvFilename: filename };
}
