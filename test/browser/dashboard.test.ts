import { readFileSync } from "node:fs";
import type { Browser, BrowserContext, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { makeCall } from "../factories.ts";
import { record } from "../pages/page-client.ts";
import { chatBody, postChat, startProxyRig, type ProxyRig } from "../proxy/proxy-harness.ts";
import { canvasIsDrawn, launchChromium, logIn, watchPage, type PageProblems } from "./chromium.ts";

// The dashboard in a real browser (Debian's Chromium via playwright-core) against the real server,
// the real proxy and the fake Nscale upstream. One browser and one logged-in context for the file.

const PAYLOAD = "<img src=x onerror=alert(1)>";
const DAY = 86_400_000;

let rig: ProxyRig;
let browser: Browser;
let context: BrowserContext;
let page: Page;
let problems: PageProblems;
let base: string;

beforeAll(async () => {
  rig = await startProxyRig();
  base = rig.server.url;
  browser = await launchChromium();
  const now = Date.now();
  const models = ["meta-llama/Llama-3.1-8B-Instruct", "meta-llama/Llama-3.3-70B-Instruct", "Qwen/Qwen2.5-Coder-32B-Instruct"];
  const teams = ["search", "support-bot", null];
  await record(
    rig.server,
    ...Array.from({ length: 70 }, (_, i) => ({
      call: makeCall({
        createdAt: now - (i % 10) * DAY - i * 60_000,
        model: models[i % 3]!,
        team: teams[i % 3]!,
        promptTokens: 100 + i * 37,
        completionTokens: 20 + i * 11,
        durationMs: 300 + i * 13,
        costNano: 1_000_000 + i * 250_000,
      }),
    })),
    // Every caller-controlled string carries markup (docs/architecture.md, "Nothing from a
    // request is trusted in a page").
    {
      call: makeCall({ createdAt: now - 5_000, model: PAYLOAD, team: PAYLOAD, project: PAYLOAD, status: 400, errorType: "invalid_request_error", errorMessage: PAYLOAD, costNano: 5_000_000 }),
      bodies: { request: JSON.stringify({ model: PAYLOAD, messages: [{ role: "user", content: PAYLOAD }] }), response: JSON.stringify({ error: { message: PAYLOAD } }), truncated: false },
    },
  );
  // A real insufficient-credit failure through the proxy: stored with its bodies (LOG_BODIES=errors).
  const res = await postChat(rig, chatBody({ messages: [{ role: "user", content: "browser-test prompt 429" }] }), { "x-fake-scenario": "status-429", "x-tollbooth-team": "billing" });
  expect(res.status).toBe(429);
  await rig.waitForCall(res.headers.get("x-tollbooth-request-id"));

  context = await browser.newContext({ viewport: { width: 1280, height: 900 }, acceptDownloads: true });
  page = await logIn(context, base, rig.server.adminToken);
  problems = watchPage(page);
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await rig?.stop();
});

async function visit(path: string): Promise<void> {
  problems.clear();
  await page.goto(base + path);
  await page.waitForLoadState("load");
}

function expectNoProblems(where: string): void {
  expect(problems.all(), where).toEqual([]);
}

describe("session", () => {
  it("a page without a session redirects to /login, and logging in lands on it", async () => {
    const anon = await browser.newContext();
    try {
      const p = await anon.newPage();
      await p.goto(`${base}/usage?range=7d`);
      expect(new URL(p.url()).pathname).toBe("/login");
      expect(new URL(p.url()).searchParams.get("next")).toBe("/usage?range=7d");
      await p.fill('input[name="token"]', "wrong-token-wrong-token");
      await p.click('button[type="submit"]');
      await expect.poll(() => p.textContent("body")).toContain("That is not the admin token.");
      await p.fill('input[name="token"]', rig.server.adminToken);
      await Promise.all([p.waitForURL(/\/usage\?range=7d$/), p.click('button[type="submit"]')]);
      expect(await p.textContent("h1")).toBe("Usage");
    } finally {
      await anon.close();
    }
  });
});

describe("every page renders cleanly", () => {
  it.each(["/", "/usage", "/usage?range=24h", "/spend", "/spend?by=team&then=model", "/requests", "/requests/failed", "/prices", "/jobs", "/no-such-page"])(
    "%s: no console errors, no failed or >= 400 requests (except the 404 itself)",
    async (path) => {
      await visit(path);
      if (path === "/no-such-page") {
        expect(problems.badStatus).toEqual([`HTTP 404: GET ${base}/no-such-page`]);
        expect(problems.console).toEqual(["console error: Failed to load resource: the server responded with a status of 404 (Not Found)"]);
        problems.clear();
        expect(await page.textContent("h1")).toContain("Page not found");
      }
      expectNoProblems(path);
    },
  );
});

describe("charts", () => {
  it.each(["/", "/usage", "/usage?range=24h&metric=cost", "/spend", "/spend?by=team&then=model", "/spend?by=model&then=day"])("%s draws its chart", async (path) => {
    await visit(path);
    await page.waitForSelector("canvas[data-drawn]");
    expect(await canvasIsDrawn(page, "canvas[data-chart]")).toBe(true);
    expectNoProblems(path);
  });
});

describe("request explorer", () => {
  it("filters update the table and the URL (shareable, no empty params)", async () => {
    await visit("/requests");
    await page.selectOption('select[name="status"]', "429");
    await page.waitForURL((u) => u.searchParams.get("status") === "429");
    expect(new URL(page.url()).search).toBe("?status=429");
    await expect.poll(() => page.$$eval("#request-rows tr", (rows) => rows.length)).toBe(1);
    expect(await page.textContent("#request-rows")).toContain("429");

    await page.selectOption('select[name="status"]', "");
    await page.fill('input[name="team"]', "support-bot");
    await page.press('input[name="team"]', "Enter");
    await page.waitForURL((u) => u.searchParams.get("team") === "support-bot");
    const teams = await page.$$eval("#request-rows tr td:nth-child(4)", (cells) => [...new Set(cells.map((c) => c.textContent?.trim()))]);
    expect(teams).toEqual(["support-bot"]);

    // The pushed URL is a real page: reloading it shows the same filter.
    await page.reload();
    expect(await page.inputValue('input[name="team"]')).toBe("support-bot");
    expectNoProblems("explorer");
  });

  it("load more appends the next page", async () => {
    await visit("/requests");
    expect(await page.$$eval("#request-rows tr:not(#load-more)", (r) => r.length)).toBe(50);
    await page.click("#load-more a");
    await expect.poll(() => page.$$eval("#request-rows tr:not(#load-more)", (r) => r.length)).toBe(72);
    expect(await page.$("#load-more")).toBeNull();
    expectNoProblems("load more");
  });
});

describe("failures", () => {
  it("shows the injected 429 and its detail page shows both bodies", async () => {
    await visit("/requests/failed");
    const row = page.locator("table.failures tbody tr", { hasText: "insufficient_credit" });
    await expect.poll(() => row.count()).toBe(1);
    expect(await row.textContent()).toContain("429");
    await Promise.all([page.waitForURL(/\/requests\/\d+$/), row.locator("text=Latest call").click()]);
    const text = (await page.textContent("main")) ?? "";
    expect(text).toContain("browser-test prompt 429");
    expect(text).toMatch(/"error": \{/);
    expect(text).toContain("Authorization: Bearer $NSCALE_API_KEY");
    expect(text).toContain("X-Tollbooth-Team: billing");
    expect(text).not.toContain("sk-nscale-test"); // the caller's key is never shown
    expectNoProblems("detail");
  });
});

describe("escaping", () => {
  it("a payload in model, team and prompt renders as text and never runs", async () => {
    for (const path of ["/", "/usage", "/spend?by=model&then=team", "/requests", "/requests/failed", "/prices"]) {
      await visit(path);
      // Hovering the chart opens its tooltip with the payload as a label (canvas text).
      const canvas = await page.$("canvas[data-chart]");
      if (canvas) {
        const box = await canvas.boundingBox();
        if (box) await page.mouse.move(box.x + box.width / 2, box.y + box.height / 3);
      }
      expect(await page.$$eval("img", (imgs) => imgs.length), path).toBe(0);
      expectNoProblems(path);
    }
    await visit("/requests");
    expect(await page.locator(`text=${PAYLOAD}`).count()).toBeGreaterThan(0);
    const detail = await page.locator("#request-rows tr", { hasText: PAYLOAD }).first().locator("a").first().getAttribute("href");
    await visit(detail!);
    expect(await page.textContent("main")).toContain(`"content": "${PAYLOAD}"`);
    expect(problems.dialogs).toEqual([]);
    expectNoProblems("payload detail");
  });
});

describe("spend CSV", () => {
  it("the downloaded CSV is GET /api/usage.csv's rows for the same query and the table's Total row", async () => {
    await visit("/spend?by=team&then=model&compare=0");
    const [download] = await Promise.all([page.waitForEvent("download"), page.click("text=Download CSV")]);
    const csv = readFileSync((await download.path())!, "utf8");
    const href = await page.$eval("p.export a", (a) => (a as HTMLAnchorElement).getAttribute("href")!);
    const api = await (await rig.server.api(href.replace("/spend/export.csv", "/api/usage.csv"))).text();
    expect(csv.startsWith(api)).toBe(true);
    expect(csv.slice(api.length)).toMatch(/^Total,,\d+,/);
    expect(csv).toContain("support-bot");
  });
});

describe("overview", () => {
  it("refreshes its figures with an htmx poll of the fragment", async () => {
    await visit("/");
    const poll = await page.waitForResponse((r) => r.url().endsWith("/overview/figures"), { timeout: 15_000 });
    expect(poll.status()).toBe(200);
    expect(poll.request().headers()["hx-request"]).toBe("true");
    await page.waitForTimeout(200);
    expect(await page.$$eval("#figures", (els) => els.length)).toBe(1);
    expectNoProblems("overview poll");
  }, 20_000);
});

describe("prices", () => {
  it("adds a price through the form (CSRF token included)", async () => {
    await visit("/prices");
    await page.fill('input[name="model"]', "browser/test-model");
    await page.fill('input[name="input_usd_per_mtok"]', "0.25");
    await page.fill('input[name="output_usd_per_mtok"]', "0.5");
    await Promise.all([page.waitForURL(/\/prices\?added=\d+/), page.click("button.add-price")]);
    expect(await page.textContent("main")).toContain("Added a price for browser/test-model");
    expectNoProblems("prices");
  });
});

describe("logout", () => {
  it("ends the session: the old cookie no longer opens a page", async () => {
    const cookie = (await context.cookies()).find((c) => c.name === "tb_session");
    expect(cookie?.httpOnly).toBe(true);
    expect(cookie?.sameSite).toBe("Strict");
    await visit("/jobs");
    await Promise.all([page.waitForURL(/\/login$/), page.click("form.logout button")]);
    const res = await fetch(`${base}/jobs`, { redirect: "manual", headers: { cookie: `tb_session=${cookie!.value}` } });
    expect(res.status).toBe(302);
    await page.goto(`${base}/`);
    expect(new URL(page.url()).pathname).toBe("/login");
  });
});
