import type { Child } from "hono/jsx";

// Building blocks of report emails. Mail clients are not browsers: no JavaScript, often no SVG,
// no <style> in Gmail's app, no flexbox in Outlook. So: nested tables for layout, inline styles
// (the only place tollbooth writes them: this is an email, not a page under our CSP), and bars
// made of table cells with a percentage width. Hono JSX escapes every string it is given, so
// names that came from request headers arrive as text.

export const COLOR = {
  text: "#111827",
  muted: "#6b7280",
  border: "#e5e7eb",
  panel: "#f9fafb",
  page: "#f3f4f6",
  bar: "#4f46e5",
  barTrack: "#eef2ff",
  up: "#b45309",
  down: "#047857",
  warnBg: "#fffbeb",
  warnBorder: "#f59e0b",
  error: "#b91c1c",
};
const FONT = "-apple-system,BlinkMacSystemFont,'Segoe UI',Roboto,Helvetica,Arial,sans-serif";
const MONO = "ui-monospace,SFMono-Regular,Menlo,Consolas,monospace";
const WIDTH = 640;

export function EmailFrame(props: { title: string; preheader: string; kicker: string; heading: string; subheading: Child; children: Child; footer: Child }) {
  return (
    <html lang="en">
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <meta name="color-scheme" content="light" />
        <title>{props.title}</title>
      </head>
      <body style={`margin:0;padding:0;background:${COLOR.page};color:${COLOR.text};font-family:${FONT};`}>
        {/* The preheader is the grey preview line inbox lists show after the subject. */}
        <div style="display:none;max-height:0;overflow:hidden;opacity:0;">{props.preheader}</div>
        <table role="presentation" width="100%" cellpadding="0" cellspacing="0" border={0} style={`background:${COLOR.page};`}>
          <tr>
            <td align="center" style="padding:24px 12px;">
              <table role="presentation" width={WIDTH} cellpadding="0" cellspacing="0" border={0} style={`width:${WIDTH}px;max-width:100%;background:#ffffff;border:1px solid ${COLOR.border};border-radius:8px;`}>
                <tr>
                  <td style={`padding:24px 28px 8px 28px;font-family:${FONT};`}>
                    <div style={`font-size:12px;letter-spacing:0.08em;text-transform:uppercase;color:${COLOR.muted};`}>{props.kicker}</div>
                    <h1 style={`margin:6px 0 4px 0;font-size:22px;line-height:28px;font-weight:700;color:${COLOR.text};`}>{props.heading}</h1>
                    <div style={`font-size:13px;line-height:18px;color:${COLOR.muted};`}>{props.subheading}</div>
                  </td>
                </tr>
                {props.children}
                <tr>
                  <td style={`padding:16px 28px 24px 28px;border-top:1px solid ${COLOR.border};font-family:${FONT};font-size:12px;line-height:18px;color:${COLOR.muted};`}>
                    {props.footer}
                  </td>
                </tr>
              </table>
            </td>
          </tr>
        </table>
      </body>
    </html>
  );
}

/** One full-width row of the card. */
export function Block({ children, pad = "12px 28px" }: { children: Child; pad?: string }) {
  return (
    <tr>
      <td style={`padding:${pad};font-family:${FONT};`}>{children}</td>
    </tr>
  );
}

export function SectionTitle({ children }: { children: Child }) {
  return <h2 style={`margin:8px 0 8px 0;font-size:15px;line-height:20px;font-weight:700;color:${COLOR.text};`}>{children}</h2>;
}

export interface Kpi {
  label: string;
  value: string;
  note?: string;
  noteColor?: string;
  note2?: string;
}

/** Headline figures side by side, each in its own bordered cell. */
export function Kpis({ items }: { items: Kpi[] }) {
  const width = `${Math.floor(100 / items.length)}%`;
  return (
    <table role="presentation" width="100%" cellpadding="0" cellspacing="0" border={0}>
      <tr>
        {items.map((k, i) => (
          <td width={width} valign="top" style={`padding:0 ${i === items.length - 1 ? 0 : 8}px 0 0;`}>
            <table role="presentation" width="100%" cellpadding="0" cellspacing="0" border={0} style={`background:${COLOR.panel};border:1px solid ${COLOR.border};border-radius:6px;`}>
              <tr>
                <td style={`padding:10px 12px;font-family:${FONT};`}>
                  <div style={`font-size:11px;letter-spacing:0.04em;text-transform:uppercase;color:${COLOR.muted};`}>{k.label}</div>
                  <div style={`font-size:20px;line-height:26px;font-weight:700;color:${COLOR.text};white-space:nowrap;`}>{k.value}</div>
                  <div style={`font-size:12px;line-height:16px;color:${k.noteColor ?? COLOR.muted};`}>{k.note ?? "\u00a0"}</div>
                  <div style={`font-size:12px;line-height:16px;color:${COLOR.muted};`}>{k.note2 ?? "\u00a0"}</div>
                </td>
              </tr>
            </table>
          </td>
        ))}
      </tr>
    </table>
  );
}

// Table header and body cells shared by the breakdown and plain tables.
const head = `padding:4px 6px;font-size:11px;text-transform:uppercase;letter-spacing:0.04em;color:${COLOR.muted};border-bottom:1px solid ${COLOR.border};font-weight:600;`;
const cell = `padding:6px 6px;font-size:13px;line-height:18px;border-bottom:1px solid ${COLOR.border};font-family:${FONT};vertical-align:top;`;

export interface BarRow {
  label: Child;
  value: string;
  detail: string;
  /** 0..1 of the largest row: the bar's length. */
  ratio: number;
}

/** A ranked breakdown: label, a bar of table cells, the amount, a detail column. */
export function BarTable({ rows, labelHeader, valueHeader, detailHeader }: { rows: BarRow[]; labelHeader: string; valueHeader: string; detailHeader: string }) {
  // Bars sit mid-row, next to the label's first line or centred on a wrapped one.
  const row = `${cell}vertical-align:middle;`;
  return (
    <table role="presentation" width="100%" cellpadding="0" cellspacing="0" border={0}>
      {/* Fixed column shares, so the bars of every breakdown start at the same x. */}
      <tr>
        <td style={head} align="left" width="46%">
          {labelHeader}
        </td>
        <td style={head} width="26%">
          &nbsp;
        </td>
        <td style={head} align="right" width="14%">
          {valueHeader}
        </td>
        <td style={head} align="right" width="14%">
          {detailHeader}
        </td>
      </tr>
      {rows.map((r) => (
        <tr>
          {/* Model ids are long: wrap at their hyphens and slashes, mid-word only as a last resort. */}
          <td style={`${row}overflow-wrap:anywhere;`}>{r.label}</td>
          <td style={row}>
            <Bar ratio={r.ratio} />
          </td>
          <td style={`${row}white-space:nowrap;font-weight:600;`} align="right">
            {r.value}
          </td>
          <td style={`${row}white-space:nowrap;color:${COLOR.muted};`} align="right">
            {r.detail}
          </td>
        </tr>
      ))}
    </table>
  );
}

/** A horizontal bar as two table cells; widths are whole percent so every client agrees. */
export function Bar({ ratio }: { ratio: number }) {
  const pct = Math.max(0, Math.min(100, Math.round(ratio * 100)));
  const fill = `height:10px;line-height:10px;font-size:1px;background:${COLOR.bar};border-radius:2px;`;
  const track = `height:10px;line-height:10px;font-size:1px;background:${COLOR.barTrack};`;
  return (
    <table role="presentation" width="100%" cellpadding="0" cellspacing="0" border={0}>
      <tr>
        {pct > 0 ? <td width={`${pct}%`} style={fill}>&nbsp;</td> : null}
        {pct < 100 ? <td width={`${100 - pct}%`} style={track}>&nbsp;</td> : null}
      </tr>
    </table>
  );
}

/** A plain table for non-bar lists (movers, failure groups). */
export function DataTable({ headers, rows, align }: { headers: string[]; rows: Child[][]; align: ("left" | "right")[] }) {
  return (
    <table role="presentation" width="100%" cellpadding="0" cellspacing="0" border={0}>
      <tr>
        {headers.map((h, i) => (
          <td style={head} align={align[i] ?? "left"}>
            {h}
          </td>
        ))}
      </tr>
      {rows.map((row) => (
        <tr>
          {row.map((c, i) => (
            <td style={`${cell}${align[i] === "right" ? "white-space:nowrap;" : "overflow-wrap:anywhere;"}`} align={align[i] ?? "left"}>
              {c}
            </td>
          ))}
        </tr>
      ))}
    </table>
  );
}

export function Notice({ children }: { children: Child }) {
  return (
    <table role="presentation" width="100%" cellpadding="0" cellspacing="0" border={0} style={`background:${COLOR.warnBg};border-left:4px solid ${COLOR.warnBorder};`}>
      <tr>
        <td style={`padding:10px 12px;font-size:13px;line-height:18px;font-family:${FONT};color:${COLOR.text};`}>{children}</td>
      </tr>
    </table>
  );
}

/** A bulletproof button: a padded, coloured link in a table cell (no images, no VML). */
export function Button({ href, children }: { href: string; children: Child }) {
  return (
    <table role="presentation" cellpadding="0" cellspacing="0" border={0}>
      <tr>
        <td style={`background:${COLOR.bar};border-radius:6px;`}>
          <a href={href} style={`display:inline-block;padding:10px 16px;font-family:${FONT};font-size:14px;font-weight:600;color:#ffffff;text-decoration:none;`}>
            {children}
          </a>
        </td>
      </tr>
    </table>
  );
}

export function Code({ children }: { children: Child }) {
  return <span style={`font-family:${MONO};font-size:12px;`}>{children}</span>;
}

export function Muted({ children }: { children: Child }) {
  return <span style={`color:${COLOR.muted};`}>{children}</span>;
}

/** Render a component tree to a complete HTML document string. */
export async function toHtmlDocument(node: { toString(): string | Promise<string> }): Promise<string> {
  return `<!DOCTYPE html>${await node.toString()}`;
}
