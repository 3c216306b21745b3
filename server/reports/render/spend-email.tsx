import type { SpendData } from "../spend-data.ts";
import { BarTable, Block, Button, COLOR, Code, DataTable, EmailFrame, Kpis, Muted, Notice, SectionTitle, type BarRow } from "./email-parts.tsx";
import type { PeriodNames } from "./period-name.ts";
import type { BreakdownLine, SpendView } from "./spend-view.ts";

// The HTML part of a spend report.

const CHANGE_COLOR = { up: COLOR.up, down: COLOR.down, flat: COLOR.muted, new: COLOR.muted } as const;

function rows(lines: BreakdownLine[]): BarRow[] {
  return lines.map((l) => ({ label: l.label, value: l.usd, detail: l.requests, ratio: l.ratio }));
}

function Breakdown({ title, lines, labelHeader }: { title: string; lines: BreakdownLine[]; labelHeader: string }) {
  return (
    <Block>
      <SectionTitle>{title}</SectionTitle>
      {lines.length === 0 ? <Muted>No calls in this period.</Muted> : <BarTable rows={rows(lines)} labelHeader={labelHeader} valueHeader="Spend" detailHeader="Requests" />}
    </Block>
  );
}

export function SpendEmail({ data, view, names, scheduleName }: { data: SpendData; view: SpendView; names: PeriodNames; scheduleName: string }) {
  const footer = (
    <>
      <div>
        Period: {names.span}. Figures equal <Code>GET /api/usage</Code> for this range, zone and filter; amounts are rounded to the cent here and exact
        in the attached CSV (the same as <Code>/api/usage.csv?{data.csvQuery}</Code>).
      </div>
      <div style="margin-top:6px;">
        Sent by tollbooth for the schedule “{scheduleName}”. {data.dashboardUrl ? null : "Set PUBLIC_URL to get links to the dashboard."}
      </div>
    </>
  );
  return (
    <EmailFrame title={view.subject} preheader={`${view.total} · ${view.change} · ${view.requests} requests`} kicker="tollbooth spend report" heading={view.heading} subheading={view.scopeLine} footer={footer}>
      <Block pad="16px 28px 8px 28px">
        <Kpis
          items={[
            { label: "Spend", value: view.total, note: view.change, noteColor: CHANGE_COLOR[view.changeDirection], note2: `was ${view.previousTotal}` },
            { label: "Requests", value: view.requests },
            { label: "Tokens", value: view.tokens, note: "prompt + completion" },
            { label: "Error rate", value: view.errorRate, note: view.errors },
          ]}
        />
      </Block>
      {view.unpriced ? (
        <Block pad="8px 28px">
          <Notice>
            <strong>{view.unpriced.count} calls had no price</strong> and are not in the total (counted as unpriced, never as free):{" "}
            {view.unpriced.models.join(", ")}. Add their prices on the Prices page; past calls can be re-priced.
          </Notice>
        </Block>
      ) : null}
      {view.movers.length > 0 ? (
        <Block>
          <SectionTitle>Biggest movers vs {names.previous}</SectionTitle>
          <DataTable
            headers={["", "Before", "Now", "Change", ""]}
            align={["left", "right", "right", "right", "right"]}
            rows={view.movers.map((m) => [
              m.label,
              m.previous,
              m.current,
              <span style={`color:${m.delta.startsWith("+") ? COLOR.up : COLOR.down};font-weight:600;`}>{m.delta}</span>,
              <Muted>{m.change}</Muted>,
            ])}
          />
        </Block>
      ) : null}
      <Breakdown title="Spend by model" lines={view.byModel} labelHeader="Model" />
      <Breakdown title="Spend by team" lines={view.byTeam} labelHeader="Team" />
      <Breakdown title="Spend by key" lines={view.byKey} labelHeader="Key" />
      {data.dashboardUrl ? (
        <Block pad="12px 28px 20px 28px">
          <Button href={data.dashboardUrl}>Open the spend dashboard for this period</Button>
        </Block>
      ) : null}
    </EmailFrame>
  );
}
