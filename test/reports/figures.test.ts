import { parse } from "csv-parse/sync";
import type { ParsedMail } from "mailparser";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { percentChange } from "../../server/money.ts";
import type { CallRecord } from "../../server/recorder/recorder.ts";
import type { UsageJson } from "../../server/usage/usage-json.ts";
import { formatChange, formatCount, formatPercent, formatUsd } from "../../server/format.ts";
import { makeCall } from "../factories.ts";
import { startTestServer, type TestServer } from "../harness.ts";
import { QUIET_CRON } from "./report-fixtures.ts";
import { startSmtpSink, type SmtpSink } from "./smtp-sink.ts";
import { rollUpAll } from "../pg/rollup-ready.ts";

// Every figure in a report email equals GET /api/usage for the same range, zone and filter, in
// the HTML, the text part and the CSV attachment; names from requests arrive escaped. Calls go
// through the real recorder (priced by the seeded price book); some are rolled up and some are
// still raw, so both halves of the usage query are exercised.

const XSS_TEAM = "<img src=x onerror=alert(1)>";
const LLAMA_70B = "meta-llama/Llama-3.3-70B-Instruct";
const QWEN_32B = "Qwen/Qwen2.5-Coder-32B-Instruct";
const LLAMA_8B = "meta-llama/Llama-3.1-8B-Instruct";
const UNPRICED = "acme/unpriced-1";
const NOV = "from=2026-11-01&to=2026-12-01&tz=Europe/London";
const OCT = "from=2026-10-01&to=2026-11-01&tz=Europe/London";

let server: TestServer;
let sink: SmtpSink;
const now = Date.parse("2026-12-02T10:00:00Z");

async function record(calls: Partial<CallRecord["call"]>[]): Promise<void> {
  // costNano left undefined: the recorder prices each call from the price book, as in production.
  for (const c of calls) server.recorder.enqueue({ call: { ...makeCall(c), costNano: undefined } });
  expect(await server.recorder.flushed(), "recorder flush").toBe(true);
}

function many(n: number, call: Partial<CallRecord["call"]>, start: string): Partial<CallRecord["call"]>[] {
  return Array.from({ length: n }, (_, i) => ({ ...call, createdAt: Date.parse(start) + i * 3_600_000 }));
}

beforeAll(async () => {
  sink = await startSmtpSink();
  server = await startTestServer({ SMTP_URL: sink.url, PUBLIC_URL: "https://tollbooth.example.com/", ...QUIET_CRON }, { now: () => now });
  // October: the comparison period.
  await record([
    ...many(2, { team: "ml", model: LLAMA_70B, keyId: "key-aaaa", promptTokens: 1000, completionTokens: 500 }, "2026-10-03T10:00:00Z"),
    ...many(5, { team: "search", model: QWEN_32B, keyId: "key-bbbb", promptTokens: 4000, completionTokens: 2000 }, "2026-10-20T10:00:00Z"),
    // 23:30 GMT on 31 October is still October in London.
    { team: "ml", model: LLAMA_70B, keyId: "key-aaaa", createdAt: Date.parse("2026-10-31T23:30:00Z") },
  ]);
  await rollUpAll(server.db, now);
  // November, first half rolled up, second half still raw calls.
  await record([
    ...many(5, { team: "ml", model: LLAMA_70B, keyId: "key-aaaa", promptTokens: 3000, completionTokens: 1500 }, "2026-11-02T09:00:00Z"),
    ...many(3, { team: "search", model: QWEN_32B, keyId: "key-bbbb", promptTokens: 800, completionTokens: 300 }, "2026-11-05T09:00:00Z"),
    ...many(2, { status: 500, errorType: "server_error", errorMessage: "upstream exploded", team: "ml", model: LLAMA_70B, keyId: "key-aaaa", promptTokens: null, completionTokens: null, totalTokens: null, usageSource: "none" }, "2026-11-06T09:00:00Z"),
  ]);
  await rollUpAll(server.db, now);
  await record([
    ...many(2, { team: XSS_TEAM, model: LLAMA_8B, keyId: "key-<b>x</b>" }, "2026-11-20T09:00:00Z"),
    ...many(2, { team: null, model: UNPRICED, keyId: "key-cccc" }, "2026-11-21T09:00:00Z"),
    { status: 429, errorType: "rate_limit_exceeded", errorMessage: "slow down", team: "search", model: QWEN_32B, keyId: "key-bbbb", createdAt: Date.parse("2026-11-22T09:00:00Z"), promptTokens: null, completionTokens: null, totalTokens: null, usageSource: "none" },
    { status: 200, errorType: "stream_error", errorMessage: "error event inside the stream", team: "ml", model: LLAMA_70B, stream: true, createdAt: Date.parse("2026-11-23T09:00:00Z") },
    // Outside November in London.
    { team: "ml", model: LLAMA_70B, createdAt: Date.parse("2026-12-01T00:30:00Z") },
  ]);
});
afterAll(async () => {
  await server?.stop();
  await sink?.close();
});

async function api<T>(path: string): Promise<T> {
  const res = await server.api(path);
  const text = await res.text();
  expect(res.status, `${path}: ${text}`).toBe(200);
  return (res.headers.get("content-type")?.includes("json") ? JSON.parse(text) : text) as T;
}

/** Create a monthly schedule and send it for November via the API; return the mail that arrived. */
async function sendNovember(body: Record<string, unknown>): Promise<ParsedMail> {
  const schedule = { name: "Finance monthly", kind: "spend", period: "monthly", send_at: "09:00", timezone: "Europe/London", recipients: ["finance@example.com"], ...body };
  const created = await server.api("/api/reports", { method: "POST", body: JSON.stringify(schedule) });
  const { id } = (await created.json()) as { id: number };
  const before = sink.messages.length;
  const res = await server.api(`/api/reports/${id}/send`, { method: "POST" });
  expect(res.status, await res.text()).toBe(200);
  expect(sink.messages).toHaveLength(before + 1);
  return sink.messages.at(-1)!;
}

const escapeHtml = (s: string) => s.replaceAll("&", "&amp;").replaceAll("<", "&lt;").replaceAll(">", "&gt;").replaceAll('"', "&quot;").replaceAll("'", "&#39;");

/** The text of an HTML document as its non-empty text nodes, entities decoded. */
function textNodes(html: string): string[] {
  return html
    .split(/<[^>]+>/)
    .map((t) => t.replaceAll("&lt;", "<").replaceAll("&gt;", ">").replaceAll("&quot;", '"').replaceAll("&#39;", "'").replaceAll("&amp;", "&").trim())
    .filter((t) => t !== "");
}

/** The cells of the table row that starts with `label`, after the heading `section`. */
function htmlRow(html: string, section: string, label: string, cells: number): string[] {
  const nodes = textNodes(html);
  const start = nodes.indexOf(section);
  expect(start, `section ${section}`).toBeGreaterThanOrEqual(0);
  const at = nodes.indexOf(label, start);
  expect(at, `a row for ${label} in ${section}`).toBeGreaterThan(start);
  return nodes.slice(at, at + cells);
}

function textLine(text: string, label: string): string {
  const line = text.split("\n").find((l) => l.startsWith(`${label} `));
  expect(line, `a text line for ${label}`).toBeDefined();
  return line!;
}

const usd = (decimal: string) => formatUsd(decimal);
const nano = (decimal: string) => BigInt(decimal.replace(".", ""));

describe("spend report figures equal GET /api/usage", () => {
  let mail: ParsedMail;
  let html: string;
  let text: string;
  beforeAll(async () => {
    mail = await sendNovember({});
    html = String(mail.html);
    text = mail.text ?? "";
  });

  it("headline: total, change vs October, requests, tokens, error rate", async () => {
    const nov = await api<UsageJson>(`/api/usage?${NOV}`);
    const oct = await api<UsageJson>(`/api/usage?${OCT}`);
    const t = nov.totals;
    const change = formatChange(percentChange(nano(t.cost_usd), nano(oct.totals.cost_usd)));
    expect(mail.subject).toBe(`Spend report Nov 2026: ${usd(t.cost_usd)} (${change} vs Oct)`);
    for (const figure of [usd(t.cost_usd), `${change} vs Oct`, `was ${usd(oct.totals.cost_usd)}`, formatCount(t.requests), formatCount(t.prompt_tokens + t.completion_tokens), formatPercent(t.errors / t.requests)]) {
      expect(html, figure).toContain(`>${figure}<`);
      expect(text, figure).toContain(figure);
    }
    expect(t.requests).toBe(16);
  });

  it.each([
    ["model", "Spend by model"],
    ["team", "Spend by team"],
    ["key", "Spend by key"],
  ])("every %s row: name, spend and requests", async (dim, section) => {
    const { rows } = await api<UsageJson>(`/api/usage?${NOV}&group_by=${dim}`);
    expect(rows.length).toBeGreaterThan(1);
    const textSection = text.slice(text.indexOf(section));
    for (const row of rows) {
      const label = row.group[dim] ?? "(none)";
      expect(htmlRow(html, section, label, 3)).toEqual([label, usd(row.cost_usd), `${formatCount(row.requests)} req`]);
      const line = textLine(textSection, label);
      expect(line).toContain(usd(row.cost_usd));
      expect(line).toContain(`${formatCount(row.requests)} req`);
    }
  });

  it("the CSV attachment is /api/usage.csv for the same range, zone and breakdown", async () => {
    const csv = await api<string>(`/api/usage.csv?from=2026-11-01T00:00:00.000Z&to=2026-12-01T00:00:00.000Z&tz=Europe/London&group_by=team,model`);
    expect(mail.attachments).toHaveLength(1);
    expect(mail.attachments[0]!.filename).toBe("tollbooth-spend-2026-11.csv");
    expect(mail.attachments[0]!.contentType).toBe("text/csv");
    expect(mail.attachments[0]!.content.toString("utf8")).toBe(csv);
  });

  it("biggest movers: the change per model and team vs October", async () => {
    const nov = await api<UsageJson>(`/api/usage?${NOV}&group_by=team`);
    const oct = await api<UsageJson>(`/api/usage?${OCT}&group_by=team`);
    const cost = (j: UsageJson, team: string) => j.rows.find((r) => r.group.team === team)?.cost_usd ?? "0.000000000";
    // search spent less in November than in October.
    const [, before, after, delta] = htmlRow(html, "Biggest movers vs Oct", "team search", 4);
    expect([before, after]).toEqual([usd(cost(oct, "search")), usd(cost(nov, "search"))]);
    expect(delta).toMatch(/^−\$/);
    expect(textLine(text.slice(text.indexOf("Biggest movers")), "team search")).toContain("−$");
  });

  it("warns about unpriced calls, naming the models", () => {
    expect(html).toContain("2 calls had no price");
    expect(html).toContain(`${UNPRICED} (2)`);
    expect(text).toContain(`WARNING: 2 calls had no price and are not in the total: ${UNPRICED} (2).`);
  });

  it("links to the spend dashboard for the same range and zone", () => {
    const link = "https://tollbooth.example.com/spend?from=2026-11-01T00%3A00%3A00.000Z&to=2026-12-01T00%3A00%3A00.000Z&tz=Europe%2FLondon";
    expect(html).toContain(`href="${escapeHtml(link)}"`);
    expect(text).toContain(`Dashboard: ${link}`);
  });

  it("a team name with an XSS payload arrives as text", () => {
    expect(html).not.toContain(XSS_TEAM);
    expect(html).not.toContain("<b>x</b>");
    expect(html).toContain(`>${escapeHtml(XSS_TEAM)}<`);
    expect(html).not.toMatch(/<script|onerror=alert\(1\)>/);
    expect(text).toContain(XSS_TEAM);
  });

  it("the HTML has no script, no SVG and no external resources", () => {
    expect(html).not.toMatch(/<script|<svg|<link|<img|<style/i);
  });
});

describe("a report filtered to one team equals /api/usage?team=", () => {
  it("totals, rows and CSV", async () => {
    const mail = await sendNovember({ name: "ML team", filter: { team: "ml" } });
    const api1 = await api<UsageJson>(`/api/usage?${NOV}&team=ml&group_by=model`);
    expect(mail.subject).toMatch(new RegExp(`^Spend report Nov 2026 \\(team ml\\): \\${usd(api1.totals.cost_usd)} `));
    expect(api1.totals.requests).toBe(8);
    for (const row of api1.rows) expect(htmlRow(String(mail.html), "Spend by model", row.group.model ?? "(none)", 2)).toEqual([row.group.model, usd(row.cost_usd)]);
    const csv = await api<string>(`/api/usage.csv?from=2026-11-01T00:00:00.000Z&to=2026-12-01T00:00:00.000Z&tz=Europe/London&group_by=team,model&team=ml`);
    expect(mail.attachments[0]!.content.toString("utf8")).toBe(csv);
  });
});

describe("failures digest", () => {
  it("groups failures by status + error type + model; counts add up to /api/usage errors", async () => {
    const mail = await sendNovember({ name: "On-call", kind: "failures" });
    const nov = await api<UsageJson>(`/api/usage?${NOV}`);
    expect(mail.subject).toBe(`Failures Nov 2026: ${nov.totals.errors} failed requests (${formatPercent(nov.totals.errors / nov.totals.requests)} of ${nov.totals.requests})`);
    const rows = parse(mail.attachments[0]!.content.toString("utf8"), { columns: true }) as Record<string, string>[];
    expect(rows.map((r) => [r.status, r.error_type, r.model, r.failures])).toEqual([
      ["500", "server_error", LLAMA_70B, "2"],
      ["200", "stream_error", LLAMA_70B, "1"],
      ["429", "rate_limit_exceeded", QWEN_32B, "1"],
    ]);
    expect(rows.reduce((n, r) => n + Number(r.failures), 0)).toBe(nov.totals.errors);
    const html = String(mail.html);
    expect(htmlRow(html, "By status, error type and model", "429", 5)).toEqual(["429", "rate_limit_exceeded", "slow down", QWEN_32B, "1"]);
    expect(html).toContain(escapeHtml(`https://tollbooth.example.com/requests?status=429&from=2026-11-01T00%3A00%3A00.000Z&to=2026-12-01T00%3A00%3A00.000Z&model=${encodeURIComponent(QWEN_32B)}`));
    // A failure inside a 2xx stream has no failing status to filter on: its link shows all failures.
    expect(html).toContain(escapeHtml("https://tollbooth.example.com/requests?status=error&from=2026-11-01T00%3A00%3A00.000Z"));
    expect(mail.text).toContain("e.g. slow down");
  });
});
