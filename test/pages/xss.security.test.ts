import { beforeAll, describe, expect, it } from "vitest";
import { makeCall } from "../factories.ts";
import { record, useSignedInServer } from "./page-client.ts";
import { sql } from "drizzle-orm";

// Nothing from a request is trusted in a page (docs/architecture.md). Every logged string a
// caller controls (model, team, project, user, error message, bodies) carries markup; no page may
// emit it raw.

const PAYLOAD = "<img src=x onerror=alert(1)>";
const BREAKOUT = `"></script><script>alert(2)</script>`;

let id: number;
const app = useSignedInServer();
beforeAll(async () => {
  await record(
    app.server,
    {
      call: makeCall({
        model: PAYLOAD,
        team: PAYLOAD,
        project: BREAKOUT,
        user: PAYLOAD,
        keyId: PAYLOAD,
        status: 400,
        errorType: PAYLOAD,
        errorMessage: PAYLOAD,
        costNano: 1234,
      }),
      bodies: { request: JSON.stringify({ model: PAYLOAD, messages: [{ role: "user", content: PAYLOAD + BREAKOUT }] }), response: PAYLOAD, truncated: false },
    },
    { call: makeCall({ model: BREAKOUT, team: BREAKOUT, costNano: 99 }) },
  );
  id = (await app.server.db.get<{ id: number }>(sql`SELECT id FROM calls WHERE team = ${PAYLOAD}`))!.id;
  const price = await app.user.post("/prices", { _csrf: app.user.csrf, model: PAYLOAD, input_usd_per_mtok: "1", output_usd_per_mtok: "1" });
  expect(price.status).toBe(303);
});

describe("logged content is escaped on every page", () => {
  const paths = () => [
    "/",
    "/overview/figures",
    "/usage",
    "/spend?by=team&then=model",
    "/spend?by=model&then=day",
    "/spend?by=project&then=user",
    "/spend?by=key",
    "/requests",
    `/requests?team=${encodeURIComponent(PAYLOAD)}`,
    "/requests/failed",
    `/requests/${id}`,
    "/prices",
  ];

  it("no raw payload, and the escaped text is there", async () => {
    for (const path of paths()) {
      const res = await app.user.get(path);
      const html = await res.text();
      expect(res.status, path).toBe(200);
      expect(html, path).not.toContain(PAYLOAD);
      expect(html, path).not.toContain("<script>alert(2)");
      expect(html, path).toContain("&lt;img src=x onerror=alert(1)&gt;");
    }
  });

  it("chart data rides in an escaped attribute, never in a script element", async () => {
    const html = await (await app.user.get("/spend?by=team")).text();
    const attr = /<canvas data-chart="([^"]*)"/.exec(html)?.[1];
    expect(attr).toBeDefined();
    expect(attr).not.toContain("<");
    const decoded = attr!.replaceAll("&quot;", '"').replaceAll("&lt;", "<").replaceAll("&gt;", ">").replaceAll("&#39;", "'").replaceAll("&amp;", "&");
    expect(JSON.parse(decoded).labels).toContain(PAYLOAD);
  });

  it("the search box echoes a query as text", async () => {
    const html = await (await app.user.get(`/requests?q=${encodeURIComponent(BREAKOUT)}`)).text();
    expect(html).not.toContain("<script>alert(2)");
    expect(html).toContain("&lt;/script&gt;&lt;script&gt;alert(2)&lt;/script&gt;");
  });
});
