import { randomUUID } from "node:crypto";
import { describe, expect, it } from "vitest";
import { staticAssets } from "../../server/static-assets.ts";
import { makeCall } from "../factories.ts";
import { startTestServer } from "../harness.ts";
import { PAGE_PATHS, logIn, record, useSignedInServer } from "./page-client.ts";
import { sql } from "drizzle-orm";
import { rollUpAll } from "../pg/rollup-ready.ts";

const app = useSignedInServer();

const tag = (prefix: string) => `${prefix}-${randomUUID().slice(0, 8)}`;

async function html(path: string, status = 200): Promise<string> {
  const res = await app.user.get(path);
  const body = await res.text();
  expect(res.status, `${path}: ${body.slice(0, 500)}`).toBe(status);
  return body;
}

describe("every page on an empty database", () => {
  it.each(PAGE_PATHS)("GET %s renders", async (path) => {
    const body = await html(path);
    if (path !== "/overview/figures") expect(body.startsWith("<!DOCTYPE html>")).toBe(true);
  });

  it("the overview and the explorer explain how to send a first call, with the base URL", async () => {
    for (const path of ["/", "/requests"]) {
      const body = await html(path);
      expect(body).toContain("No calls recorded yet");
      expect(body).toContain(`${app.server.url}/v1`);
      expect(body).toContain("X-Tollbooth-Team");
      expect(body).toContain("$NSCALE_API_KEY");
    }
  });

  it("the base URL follows PUBLIC_URL when it is set", async () => {
    const other = await startTestServer({ PUBLIC_URL: "https://llm.example.com/" });
    try {
      const c = await logIn(other);
      const body = await (await c.get("/")).text();
      expect(body).toContain("https://llm.example.com/v1");
    } finally {
      await other.stop();
    }
  });
});

describe("headers", () => {
  // Spelled out, not imported: the test pins what browsers receive, whoever builds the header.
  const CONTENT_SECURITY_POLICY =
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'";

  it.each([...PAGE_PATHS, "/login", "/no-such-page"])("%s has the strict CSP, nosniff, same-origin referrer and no framing", async (path) => {
    const res = await app.user.get(path);
    expect(res.headers.get("content-security-policy")).toBe(CONTENT_SECURITY_POLICY);
    expect(res.headers.get("x-content-type-options")).toBe("nosniff");
    expect(res.headers.get("referrer-policy")).toBe("same-origin");
    expect(res.headers.get("x-frame-options")).toBe("DENY");
    // A dashboard served over plain HTTP on a LAN must not pin browsers to HTTPS.
    expect(res.headers.get("strict-transport-security")).toBeNull();
  });

  it("pages carry no inline script and no style attribute", async () => {
    for (const path of PAGE_PATHS.filter((p) => p !== "/overview/figures")) {
      const body = await html(path);
      for (const m of body.matchAll(/<script\b[^>]*>([\s\S]*?)<\/script>/g)) {
        expect(m[0], `${path}: script without src`).toMatch(/\ssrc="\/static\//);
        expect(m[1], `${path}: inline script body`).toBe("");
      }
      expect(body, path).not.toMatch(/\sstyle="/);
      expect(body, path).not.toMatch(/\son[a-z]+="/);
    }
  });

  it("/api and /v1 do not get page headers or HTML", async () => {
    const res = await app.server.api("/api/no-such-thing");
    expect(res.status).toBe(404);
    expect(res.headers.get("content-type")).toMatch(/json/);
    expect(res.headers.get("content-security-policy")).toBeNull();
  });
});

describe("static assets", () => {
  it("every asset the layout links is served with a year-long immutable cache", async () => {
    const body = await html("/");
    const urls = [...body.matchAll(/(?:src|href)="(\/static\/[^"]+)"/g)].map((m) => m[1]!);
    expect(urls.length).toBeGreaterThanOrEqual(5);
    for (const url of urls) {
      const res = await fetch(app.server.url + url); // no cookie: the login page needs them too
      expect(res.status, url).toBe(200);
      expect(res.headers.get("cache-control"), url).toBe("public, max-age=31536000, immutable");
      expect(res.headers.get("content-type"), url).toMatch(/^(text\/css|text\/javascript|image\/svg\+xml)/);
    }
  });

  it("URLs carry the package version or a content hash", () => {
    const a = staticAssets();
    expect(a.htmx.url).toMatch(/^\/static\/vendor\/htmx-2\.\d+\.\d+\.min\.js$/);
    expect(a.chart.url).toMatch(/^\/static\/vendor\/chart-4\.\d+\.\d+\.umd\.min\.js$/);
    expect(a.pico.url).toMatch(/^\/static\/vendor\/pico-2\.\d+\.\d+\.min\.css$/);
    expect(a.appJs.url).toMatch(/^\/static\/app-[0-9a-f]{10}\.js$/);
    expect(a.chart.body.toString()).not.toContain("sourceMappingURL");
  });

  it("an unknown or unversioned static path is a 404", async () => {
    expect((await fetch(`${app.server.url}/static/app.js`)).status).toBe(404);
    expect((await fetch(`${app.server.url}/static/vendor/htmx.min.js`)).status).toBe(404);
  });
});

describe("404 page", () => {
  it("unknown page paths get an HTML 404 inside the layout", async () => {
    const body = await html("/no-such-page", 404);
    expect(body).toContain("Page not found");
    expect(body).toContain('href="/requests"'); // the nav
  });

  it("an unknown call id is a 404 page; a malformed one a 400 page", async () => {
    expect(await html("/requests/999999999", 404)).toContain("No call with id 999999999");
    expect(await html("/requests/not%20an%20id", 400)).toContain("Bad request");
  });
});

describe("request explorer", () => {
  it("filters by status and team, as GET /api/requests does", async () => {
    const team = tag("explorer");
    await record(
      app.server,
      { call: makeCall({ team, status: 200 }) },
      { call: makeCall({ team, status: 429, errorType: "insufficient_credit", errorMessage: "Insufficient credit left" }) },
      { call: makeCall({ team, status: 503, errorType: "server_error", errorMessage: "temporarily unavailable" }) },
    );
    const all = await html(`/requests?team=${team}`);
    expect(all.match(/<a href="\/requests\/\d+">/g)?.length).toBe(3);
    const only429 = await html(`/requests?team=${team}&status=429`);
    expect(only429).toContain(">429<");
    expect(only429).not.toContain(">503<");
    expect(only429).toContain("Insufficient credit left");
    const search = await html(`/requests?team=${team}&q=UNAVAILABLE`);
    expect(search).toContain(">503<");
    expect(search).not.toContain(">429<");
  });

  it("answers htmx with the results fragment only, and pages with a load-more cursor", async () => {
    const team = tag("pages");
    const t = Date.now() - 60_000;
    await record(app.server, ...Array.from({ length: 55 }, (_, i) => ({ call: makeCall({ team, createdAt: t + i }) })));
    const fragment = await (await app.user.get(`/requests?team=${team}`, { "hx-request": "true" })).text();
    expect(fragment).not.toContain("<html");
    expect(fragment.match(/<tr>/g)?.length).toBe(51); // header + 50 rows
    const more = /hx-get="([^"]+cursor=[^"]+)"/.exec(fragment)?.[1]?.replaceAll("&amp;", "&");
    expect(more).toBeDefined();
    const next = await (await app.user.get(more!, { "hx-request": "true" })).text();
    expect(next.match(/<tr>/g)?.length).toBe(5);
    expect(next).not.toContain('id="load-more"');
  });

  it("shows a bad filter as a message, not a stack trace", async () => {
    const body = await html("/requests?status=teapot", 400);
    expect(body).toContain("status: expected ok, error or a 3-digit HTTP status");
    const fragment = await app.user.get("/requests?status=teapot", { "hx-request": "true" });
    expect(fragment.status, "htmx only swaps 2xx").toBe(200);
  });
});

describe("request detail", () => {
  it("shows every field, the bodies pretty-printed, and a curl without any key", async () => {
    const requestId = randomUUID();
    const body = JSON.stringify({ model: "meta-llama/Llama-3.1-8B-Instruct", messages: [{ role: "user", content: "it's a test" }] });
    await record(app.server, {
      call: makeCall({ requestId, status: 429, errorType: "insufficient_credit", errorMessage: "no credit", team: "t1", project: "p1", keyId: "abc123def456..WXYZ" }),
      bodies: { request: body, response: '{"error":{"message":"no credit"}}', truncated: false },
    });
    const id = String((await app.server.db.get<{ id: number }>(sql`SELECT id FROM calls WHERE request_id = ${requestId}`))!.id);
    const page = await html(`/requests/${id}`);
    expect(page).toContain(requestId);
    expect(page).toContain("insufficient_credit");
    expect(page).toContain("&quot;messages&quot;: [\n"); // indented JSON, escaped
    expect(page).toContain("Authorization: Bearer $NSCALE_API_KEY");
    expect(page).toContain("X-Tollbooth-Team: t1");
    expect(page).toContain("it&#39;\\&#39;&#39;s a test"); // shell-quoted ' inside the -d body
    expect(page).toContain(`href="/requests?key=abc123def456..WXYZ"`);
    expect(page).toContain(`href="/requests?model=meta-llama%2FLlama-3.3-70B-Instruct"`);
  });
});

describe("failures view", () => {
  it("groups failures by status, error type and model with counts and an example", async () => {
    const model = tag("failing-model");
    await record(
      app.server,
      ...Array.from({ length: 3 }, () => ({ call: makeCall({ model, status: 429, errorType: "insufficient_credit", errorMessage: "x" }) })),
      { call: makeCall({ model, status: 503, errorType: "server_error", errorMessage: "y" }) },
    );
    const page = await html("/requests/failed");
    const row429 = page.split("<tr>").find((r) => r.includes(model) && r.includes(">429<"));
    expect(row429).toBeDefined();
    expect(row429).toContain(">3</a>");
    expect(row429).toContain("insufficient_credit");
    expect(row429).toMatch(/<svg class="spark"[\s\S]*<rect /);
    expect(row429).toMatch(/href="\/requests\/\d+">Latest call/);
  });
});

describe("prices page", () => {
  it("adds a price through the form with the API's validation, then shows it", async () => {
    const model = tag("priced-model");
    const res = await app.user.post("/prices", { _csrf: app.user.csrf, model, input_usd_per_mtok: "0.15", output_usd_per_mtok: "0.6", effective_from: "" });
    expect(res.status, await res.text()).toBe(303);
    const page = await html(res.headers.get("location")!);
    expect(page).toContain(`Added a price for <strong>${model}</strong>`);
    expect(page).toContain("$0.15");
    const api = (await (await app.server.api(`/api/prices?model=${model}`)).json()) as { data: Array<{ input_usd_per_mtok: string; source: string }> };
    expect(api.data[0]).toMatchObject({ input_usd_per_mtok: "0.15", source: "admin" });
  });

  it("refuses what POST /api/prices refuses, keeping the form values", async () => {
    const res = await app.user.post("/prices", { _csrf: app.user.csrf, model: "m-bad", input_usd_per_mtok: "0.1234567", output_usd_per_mtok: "1" });
    const page = await res.text();
    expect(res.status, page).toBe(400);
    expect(page).toContain("input_usd_per_mtok: has more than 6 decimals");
    expect(page).toContain('value="m-bad"');
  });
});

describe("spend page and CSV", () => {
  it("groups by two dimensions with totals, and its CSV starts with /api/usage.csv's rows", async () => {
    const team = tag("finance");
    await record(app.server, { call: makeCall({ team, costNano: 1_500_000_000 }) }, { call: makeCall({ team, project: "p", costNano: 250 }) });
    const page = await html("/spend?by=team&then=project&compare=1");
    expect(page).toContain(team);
    expect(page).toContain("Total");
    const href = /href="(\/spend\/export\.csv\?[^"]+)"/.exec(page)?.[1]?.replaceAll("&amp;", "&");
    expect(href).toBeDefined();
    const download = await app.user.get(href!);
    expect(download.headers.get("content-disposition")).toMatch(/^attachment; filename="spend-by-team-and-project-\d{4}-\d{2}\.csv"$/);
    const csv = await download.text();
    const api = await (await app.server.api(href!.replace("/spend/export.csv", "/api/usage.csv").replace(/&compare_from=.*$/, ""))).text();
    // The page's CSV adds the table's Previous and Change columns and its Total row (test/usage/spend-csv.test.ts).
    const lines = (s: string) => s.trimEnd().split("\r\n");
    expect(lines(csv).slice(0, -1).map((l) => l.split(",").slice(0, 8).join(","))).toEqual(lines(api).map((l) => l.split(",").slice(0, 8).join(",")));
    expect(csv.split("\r\n")[0]).toBe("team,project,requests,errors,prompt_tokens,completion_tokens,cost_usd,unpriced_requests,previous_cost_usd,change_pct");
    expect(csv).toContain(`${team},,1,0,12,30,1.500000000,0,,new`);
  });

  it("custom dates, quarters and a bad zone", async () => {
    expect(await html("/spend?period=custom&from=2025-01-01&to=2025-01-31&tz=Asia/Kolkata")).toContain("2025-01-01 – 2025-01-31");
    expect(await html("/spend?period=last-quarter&tz=UTC")).toMatch(/\d{4}-(01|04|07|10)-01 – /);
    expect(await html("/spend?tz=Mars/Olympus", 400)).toContain("unknown IANA time zone");
    expect(await html("/spend?period=custom&from=2025-02-01&to=2025-01-01", 400)).toContain("must not be before");
  });

  it("usage page: ranges and granularities", async () => {
    for (const q of ["range=24h", "range=7d&granularity=hour", "range=90d&granularity=week&metric=cost", "range=30d&metric=tokens&tz=America/New_York"]) {
      expect(await html(`/usage?${q}`)).toContain("By model");
    }
  });

  it("usage page: average latency per model, from rolled-up and fresh calls alike", async () => {
    const model = tag("latency");
    const now = Date.now();
    // Two calls rolled up, one past the watermark: (100 + 200 + 401) / 3 = 233.67 → 234 ms.
    await record(app.server, { call: makeCall({ model, durationMs: 100, createdAt: now - 3_600_000 }) }, { call: makeCall({ model, durationMs: 200, createdAt: now - 3_600_000 }) });
    await rollUpAll(app.server.db, now);
    await record(app.server, { call: makeCall({ model, durationMs: 401, createdAt: now }) });
    const page = await html("/usage?range=24h&metric=latency");
    expect(page).toContain("Avg latency");
    const row = new RegExp(`${model}</span></td>(.*?)</tr>`).exec(page)?.[1] ?? "";
    expect(row).toContain(">234 ms<");
    // The chart draws averages as lines, never stacked, in milliseconds.
    const spec = JSON.parse(/data-chart="([^"]+)"/.exec(page)![1]!.replace(/&quot;/g, '"').replace(/&amp;/g, "&")) as { type: string; stacked: boolean; unit: string };
    expect(spec).toMatchObject({ type: "line", stacked: false, unit: "ms" });
  });
});

describe("overview", () => {
  it("polls a figures fragment and shows the unpriced warning", async () => {
    await record(app.server, { call: makeCall({ model: tag("unpriced"), costNano: null }) });
    const page = await html("/");
    expect(page).toContain('hx-get="/overview/figures"');
    expect(page).toContain('hx-trigger="every 10s"');
    const fragment = await html("/overview/figures");
    expect(fragment.startsWith('<div id="figures"')).toBe(true);
    expect(fragment).toContain("used models without a price");
    expect(page).toMatch(/<canvas data-chart="\{/);
  });
});
