import { DateTime } from "luxon";

// An instant written in a named zone for people, as they would type it back: a local midnight is
// just its date ("2026-09-01"), anything else the local date and time. The zone is named beside
// it by the caller (a column header, a label), so "2026-09-01" in Europe/London is never shown as
// "Aug 31, 11:00 PM" in someone else's zone.
export function formatInZone(ms: number, tz: string): string {
  const local = DateTime.fromMillis(ms, { zone: tz });
  if (local.hour === 0 && local.minute === 0 && local.second === 0 && local.millisecond === 0) return local.toFormat("yyyy-LL-dd");
  return local.toFormat(local.second === 0 && local.millisecond === 0 ? "yyyy-LL-dd HH:mm" : "yyyy-LL-dd HH:mm:ss");
}
