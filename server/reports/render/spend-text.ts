import type { SpendData } from "../spend-data.ts";
import type { PeriodNames } from "./period-name.ts";
import { heading, textTable } from "./plain-text.ts";
import type { BreakdownLine, SpendView } from "./spend-view.ts";

// The text/plain part of a spend report: the same display strings as the HTML (spend-view.ts).

function breakdown(title: string, label: string, lines: BreakdownLine[]): string[] {
  if (lines.length === 0) return [...heading(title), "No calls in this period."];
  return [...heading(title), ...textTable([label, "Spend", "Requests"], lines.map((l) => [l.label, l.usd, l.requests]), [false, true, true])];
}

export function spendText(data: SpendData, view: SpendView, names: PeriodNames, scheduleName: string): string {
  const lines = [
    view.heading,
    view.scopeLine,
    "",
    `Spend:      ${view.total} (${view.change}; was ${view.previousTotal})`,
    `Requests:   ${view.requests}`,
    `Tokens:     ${view.tokens} (prompt + completion)`,
    `Error rate: ${view.errorRate} (${view.errors})`,
  ];
  if (view.unpriced) {
    lines.push("", `WARNING: ${view.unpriced.count} calls had no price and are not in the total: ${view.unpriced.models.join(", ")}.`);
  }
  if (view.movers.length > 0) {
    lines.push(
      ...heading(`Biggest movers vs ${names.previous}`),
      ...textTable(["", "Before", "Now", "Change", ""], view.movers.map((m) => [m.label, m.previous, m.current, m.delta, m.change]), [false, true, true, true, true]),
    );
  }
  lines.push(...breakdown("Spend by model", "Model", view.byModel), ...breakdown("Spend by team", "Team", view.byTeam), ...breakdown("Spend by key", "Key", view.byKey));
  lines.push("");
  if (data.dashboardUrl) lines.push(`Dashboard: ${data.dashboardUrl}`, "");
  lines.push(
    `Period: ${names.span}.`,
    `Figures equal GET /api/usage for this range, zone and filter; the attached CSV has exact amounts (/api/usage.csv?${data.csvQuery}).`,
    `Sent by tollbooth for the schedule "${scheduleName}".`,
  );
  return lines.join("\n") + "\n";
}
