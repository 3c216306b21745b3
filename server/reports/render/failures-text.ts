import type { FailuresData } from "../failures-data.ts";
import type { FailuresView } from "./failures-view.ts";
import type { PeriodNames } from "./period-name.ts";
import { heading, textTable } from "./plain-text.ts";

// The text/plain part of a failures digest: the same display strings as its HTML.

export function failuresText(data: FailuresData, view: FailuresView, names: PeriodNames, scheduleName: string): string {
  const lines = [
    view.heading,
    view.scopeLine,
    "",
    `Failed:     ${view.failed} (${view.change})`,
    `Error rate: ${view.errorRate} of ${view.requests} requests`,
    ...heading("By status, error type and model"),
  ];
  if (view.groups.length === 0) lines.push("No failed requests in this period.");
  else {
    lines.push(...textTable(["Status", "Error", "Model", "Count", "Last seen"], view.groups.map((g) => [g.status, g.errorType, g.model, g.count, g.lastSeen]), [false, false, false, true, false]));
    for (const g of view.groups) {
      if (g.example || g.link) lines.push("", `${g.status} ${g.errorType} ${g.model}:`);
      if (g.example) lines.push(`  e.g. ${g.example}`);
      if (g.link) lines.push(`  ${g.link}`);
    }
  }
  if (view.other) lines.push("", view.other);
  lines.push("");
  if (data.allFailuresUrl) lines.push(`Dashboard: ${data.allFailuresUrl}`, "");
  lines.push(`Period: ${names.span}.`, `Totals equal GET /api/usage for this range, zone and filter.`, `Sent by tollbooth for the schedule "${scheduleName}".`);
  return lines.join("\n") + "\n";
}
