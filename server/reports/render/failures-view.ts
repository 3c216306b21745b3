import { formatCount, formatPercent } from "../../format.ts";
import type { FailuresData } from "../failures-data.ts";
import { shortLocalTime, type PeriodNames } from "./period-name.ts";
import { filterLine } from "./spend-view.ts";

// The failures digest as display strings, shared by its HTML and plain-text parts.

interface FailureLine {
  status: string;
  errorType: string;
  model: string;
  count: string;
  lastSeen: string;
  example: string | null;
  link: string | null;
  ratio: number;
}

export interface FailuresView {
  subject: string;
  heading: string;
  scopeLine: string;
  failed: string;
  change: string;
  errorRate: string;
  requests: string;
  groupCount: string;
  groups: FailureLine[];
  other: string | null;
}

const EXAMPLE_CHARS = 160;

function countChange(now: number, before: number, previous: string): string {
  if (now === before) return `same as ${previous}`;
  return `${now > before ? "+" : "−"}${formatCount(Math.abs(now - before))} vs ${previous}`;
}

export function failuresView(data: FailuresData, names: PeriodNames): FailuresView {
  const t = data.totals;
  const rate = t.requests > 0 ? formatPercent(t.errors / t.requests) : "–";
  const scope = data.scope.filter ? ` (${filterLine(data.scope.filter)})` : "";
  const headline = t.errors === 0 ? `no failed requests (${formatCount(t.requests)} requests)` : `${formatCount(t.errors)} failed requests (${rate} of ${formatCount(t.requests)})`;
  const max = Math.max(0, ...data.groups.map((g) => g.count));
  return {
    subject: `Failures ${names.title}${scope}: ${headline}`,
    heading: `Failed requests · ${names.title}`,
    scopeLine: `${filterLine(data.scope.filter)} · ${data.scope.tz}`,
    failed: formatCount(t.errors),
    change: countChange(t.errors, data.previousTotals.errors, names.previous),
    errorRate: rate,
    requests: formatCount(t.requests),
    groupCount: formatCount(data.groups.length + (data.otherCount > 0 ? 1 : 0)),
    groups: data.groups.map((g) => ({
      status: String(g.status),
      errorType: g.errorType ?? "(none)",
      model: g.model ?? "(none)",
      count: formatCount(g.count),
      lastSeen: shortLocalTime(g.lastSeen, data.scope.tz),
      example: g.example ? (g.example.length > EXAMPLE_CHARS ? `${g.example.slice(0, EXAMPLE_CHARS)}…` : g.example) : null,
      link: g.link,
      ratio: max > 0 ? g.count / max : 0,
    })),
    other: data.otherCount > 0 ? `${formatCount(data.otherCount)} more failed requests in smaller groups (the attached CSV lists them).` : null,
  };
}
