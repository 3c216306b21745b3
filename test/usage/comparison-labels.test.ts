import { describe, expect, it } from "vitest";
import { useSignedInServer } from "../pages/page-client.ts";
import { recordCalls, spendCall } from "./spend-fixtures.ts";

// "vs last month" on Overview and the Change column on Spend compare different things (a
// projection against the whole month; this month so far against the whole month): each says which.

const now = Date.parse("2026-11-20T12:00:00Z");

describe("comparison labels", () => {
  const app = useSignedInServer({}, { now: () => now });

  it("says what each comparison compares", async () => {
    await recordCalls(app.server, [spendCall({ createdAt: Date.parse("2026-10-10T12:00:00Z") }), spendCall({ createdAt: now - 60_000 })]);
    const overview = await (await app.user.get("/")).text();
    // The month-end projection against the whole of last month, said in the figure itself.
    expect(overview.replace(/<[^>]+>/g, "")).toMatch(/month-end ≈ \$[0-9.]+ · [+−±][0-9.]+% vs all of last month/);
    const running = await (await app.user.get("/spend?by=model&compare=1")).text();
    expect(running).toContain("Change: this period so far against all of");
    const lastMonth = await (await app.user.get("/spend?by=model&period=last-month&compare=1")).text();
    expect(lastMonth).toContain("Change: this period against all of");
  });
});
