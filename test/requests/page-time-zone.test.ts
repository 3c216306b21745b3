import { describe, expect, it } from "vitest";
import { makeCall } from "../factories.ts";
import { record, useSignedInServer } from "../pages/page-client.ts";

// One zone per page, shown: with REPORT_TZ=Europe/London the Requests page reads its date boxes
// as London days (as Overview and Spend count days) and shows every time in London time, with
// the zone named next to the filters, the table and each stamp.

const now = Date.parse("2026-07-15T12:00:00Z");
const app = useSignedInServer({ REPORT_TZ: "Europe/London" }, { now: () => now });

// 00:30 on 2 July in London (BST, UTC+1) is still 1 July in UTC.
const lateNight = Date.parse("2026-07-01T23:30:00Z");

async function page(path: string): Promise<string> {
  const res = await app.user.get(path);
  const text = await res.text();
  expect(res.status, text).toBe(200);
  return text;
}

describe("Requests in REPORT_TZ", () => {
  it("date filters are London days, and times are London times with the zone", async () => {
    await record(app.server, { call: makeCall({ createdAt: lateNight, model: "zone/model" }) });
    const results = (html: string) => html.slice(html.indexOf('<section id="results"'));
    const july2 = await page("/requests?from=2026-07-02&to=2026-07-02");
    expect(results(july2)).toContain("zone/model");
    expect(july2).toContain('<time datetime="2026-07-01T23:30:00.000Z" title="2026-07-01 23:30:00 UTC">2 Jul, 00:30:00 BST</time>');
    expect(july2).toContain("From (day in Europe/London)");
    expect(july2).toContain("Time <small class=\"muted\">(Europe/London)</small>");
    const july1 = await page("/requests?from=2026-07-01&to=2026-07-01");
    expect(results(july1)).not.toContain("zone/model");
  });

  it("the call detail page shows its time in the same zone", async () => {
    const list = await page("/requests?model=zone/model");
    const id = /href="\/requests\/(\d+)"/.exec(list)![1];
    expect(await page(`/requests/${id}`)).toContain(">2 Jul, 00:30:00 BST</time>");
  });
});
