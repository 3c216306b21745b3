import { describe, expect, it } from "vitest";
import { useSignedInServer } from "../pages/page-client.ts";

// The spend form's custom date boxes start from the period on screen, so choosing "Custom dates"
// shows that same period instead of an error about empty dates. (The URL it builds is checked in
// a real browser: test/browser/ux.test.ts.)

const now = Date.parse("2026-11-20T12:00:00Z");
const app = useSignedInServer({ REPORT_TZ: "Europe/London" }, { now: () => now });

const boxes = (html: string) => [/name="from" value="([^"]*)"/.exec(html)?.[1], /name="to" value="([^"]*)"/.exec(html)?.[1]];

describe("spend custom dates", () => {
  it("are prefilled with the current period, whichever preset is chosen", async () => {
    expect(boxes(await (await app.user.get("/spend")).text())).toEqual(["2026-11-01", "2026-11-30"]);
    expect(boxes(await (await app.user.get("/spend?period=last-quarter")).text())).toEqual(["2026-07-01", "2026-09-30"]);
  });
});
