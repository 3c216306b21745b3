import { describe, expect, it } from "vitest";
import { runRetention } from "../../jobs/retention.ts";
import { useSignedInServer } from "../pages/page-client.ts";
import { rollUpAll } from "../pg/rollup-ready.ts";

// The Jobs page shows every job with its schedule and latest run, even when 100+ rollup runs
// are newer than the last retention run.

const now = Date.parse("2026-11-20T12:00:00Z");

describe("/jobs", () => {
  const app = useSignedInServer({ CRON_ENABLED: "true", ROLLUP_CRON: "0 0 1 1 *", REPORTS_CRON: "0 0 1 1 *", PRICES_SYNC_CRON: "0 0 1 1 *", RETENTION_CRON: "42 3 * * *" }, { now: () => now });

  it("lists reports, price sync and retention beside a flood of rollup runs", async () => {
    await runRetention(app.server.db, now - 3_600_000, { bodiesDays: 30, callsDays: 400 });
    for (let i = 0; i < 120; i++) await rollUpAll(app.server.db, now + i * 10_000);
    const page = await (await app.user.get("/jobs")).text();
    const summary = page.slice(page.indexOf("Every job"), page.indexOf("Recent runs"));
    for (const job of ["rollup", "reports", "prices-sync", "retention"]) expect(summary).toContain(`<a href="/jobs?job=${job}">${job}</a>`);
    // Retention ran once, an hour before the 120 rollups: its row says so; the others never ran.
    const retention = /<tr><td><a href="\/jobs\?job=retention">[\s\S]*?<\/tr>/.exec(summary)?.[0] ?? "";
    expect(retention).toContain("<code>42 3 * * *</code>");
    expect(retention).toContain('datetime="2026-11-20T11:00:00.000Z"');
    expect(retention).toContain(">ok<");
    const prices = /<tr><td><a href="\/jobs\?job=prices-sync">[\s\S]*?<\/tr>/.exec(summary)?.[0] ?? "";
    expect(prices).toContain("never run");
  });
});
