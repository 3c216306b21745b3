import { MAX_PERIODS } from "./usage-query.ts";
import { periodsBetween, type CalendarUnit } from "../time.ts";

// The x axis of a chart over time: every period label of a range, empty periods included.
//
// Working them out goes through Luxon once per period and zone offset (Intl formatToParts), which
// measured 2–9 ms for a week of hours or 90 days in America/New_York: a fifth of a page's 50 ms
// budget, for the same answer every time. A range is [start of a period, end of the current
// 15-minute bucket), so the same arguments come back on every load and poll for up to 15 minutes;
// a few dozen are remembered.

const REMEMBERED = 64;
const remembered = new Map<string, readonly string[]>();

/** Labels of every period of `unit` in [from, to) in `tz` (as queryUsage labels its rows). */
export function periodLabels(unit: CalendarUnit, from: number, to: number, tz: string): string[] {
  const key = `${unit} ${from} ${to} ${tz}`;
  let labels = remembered.get(key);
  if (labels) {
    remembered.delete(key); // re-inserted below: a Map iterates oldest first, so this is an LRU
  } else {
    labels = Object.freeze(periodsBetween(unit, from, to, tz, MAX_PERIODS).map((p) => p.label ?? ""));
    if (remembered.size >= REMEMBERED) remembered.delete(remembered.keys().next().value!);
  }
  remembered.set(key, labels);
  return [...labels];
}
