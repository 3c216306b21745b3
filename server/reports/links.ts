import { toIso } from "../time.ts";
import type { ReportFilter } from "./schedule-input.ts";
import type { ReportRange } from "./schedule.ts";

// Links from an email back into the dashboard, for the same range, zone and filter. Absolute
// URLs need PUBLIC_URL (a mail client has no origin); without it the email leaves them out.

function base(publicUrl: string | undefined): string | null {
  return publicUrl ? publicUrl.replace(/\/+$/, "") : null;
}

function rangeParams(range: ReportRange, filter: ReportFilter | null): URLSearchParams {
  const p = new URLSearchParams({ from: toIso(range.start), to: toIso(range.end) });
  for (const key of ["team", "project", "model"] as const) {
    const value = filter?.[key];
    if (value !== undefined) p.set(key, value);
  }
  return p;
}

/** The spend dashboard for the report's range: /spend?from=…&to=…&tz=…(&team=…). */
export function spendLink(publicUrl: string | undefined, range: ReportRange, tz: string, filter: ReportFilter | null): string | null {
  const root = base(publicUrl);
  if (!root) return null;
  const p = rangeParams(range, filter);
  p.set("tz", tz);
  return `${root}/spend?${p.toString()}`;
}

/**
 * The request explorer narrowed to one failure group. The explorer has no error-type filter, so
 * status + model + range (+ the schedule's filter) is as close as a link gets; a failure inside a
 * 2xx stream has no failing status to match, so it links to all failures instead.
 */
export function failuresLink(
  publicUrl: string | undefined,
  range: ReportRange,
  filter: ReportFilter | null,
  group?: { status: number; model: string | null },
): string | null {
  const root = base(publicUrl);
  if (!root) return null;
  const p = new URLSearchParams({ status: group && group.status >= 400 ? String(group.status) : "error" });
  for (const [k, v] of rangeParams(range, filter)) p.set(k, v);
  if (group?.model && filter?.model === undefined) p.set("model", group.model);
  return `${root}/requests?${p.toString()}`;
}
