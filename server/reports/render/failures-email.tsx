import type { FailuresData } from "../failures-data.ts";
import { Bar, Block, Button, COLOR, Code, DataTable, EmailFrame, Kpis, Muted, SectionTitle } from "./email-parts.tsx";
import type { FailuresView } from "./failures-view.ts";
import type { PeriodNames } from "./period-name.ts";

// The HTML part of a failures digest.

export function FailuresEmail({ data, view, names, scheduleName }: { data: FailuresData; view: FailuresView; names: PeriodNames; scheduleName: string }) {
  const footer = (
    <>
      <div>
        Period: {names.span}. Totals equal <Code>GET /api/usage</Code> for this range, zone and filter; groups are read from the recorded calls.
      </div>
      <div style="margin-top:6px;">
        Sent by tollbooth for the schedule “{scheduleName}”. {data.allFailuresUrl ? null : "Set PUBLIC_URL to get links to the dashboard."}
      </div>
    </>
  );
  return (
    <EmailFrame title={view.subject} preheader={`${view.failed} failed · ${view.errorRate} error rate`} kicker="tollbooth failures digest" heading={view.heading} subheading={view.scopeLine} footer={footer}>
      <Block pad="16px 28px 8px 28px">
        <Kpis
          items={[
            { label: "Failed", value: view.failed, note: view.change, noteColor: COLOR.error },
            { label: "Error rate", value: view.errorRate },
            { label: "Requests", value: view.requests },
            { label: "Groups", value: view.groupCount, note: "status · type · model" },
          ]}
        />
      </Block>
      <Block>
        <SectionTitle>By status, error type and model</SectionTitle>
        {view.groups.length === 0 ? (
          <Muted>No failed requests in this period.</Muted>
        ) : (
          <DataTable
            headers={["Status", "Error", "Model", "Count", ""]}
            align={["left", "left", "left", "right", "right"]}
            rows={view.groups.map((g) => [
              <strong style={`color:${COLOR.error};`}>{g.status}</strong>,
              <>
                <div>{g.errorType}</div>
                {g.example ? <div style={`color:${COLOR.muted};font-size:12px;`}>{g.example}</div> : null}
              </>,
              g.model,
              <>
                <div style="font-weight:600;">{g.count}</div>
                <div style="width:72px;">
                  <Bar ratio={g.ratio} />
                </div>
                <div style={`color:${COLOR.muted};font-size:11px;`}>last {g.lastSeen}</div>
              </>,
              g.link ? (
                <a href={g.link} style={`color:${COLOR.bar};`}>
                  calls →
                </a>
              ) : (
                ""
              ),
            ])}
          />
        )}
        {view.other ? <div style={`margin-top:8px;font-size:13px;color:${COLOR.muted};`}>{view.other}</div> : null}
      </Block>
      {data.allFailuresUrl ? (
        <Block pad="12px 28px 20px 28px">
          <Button href={data.allFailuresUrl}>Open these failures in the dashboard</Button>
        </Block>
      ) : null}
    </EmailFrame>
  );
}
