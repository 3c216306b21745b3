import type { Browser, BrowserContext, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { makeCall } from "../factories.ts";
import { record } from "../pages/page-client.ts";
import { chatBody, postChat, startProxyRig, type ProxyRig } from "../proxy/proxy-harness.ts";
import { QUIET_CRON } from "../reports/report-fixtures.ts";
import { launchChromium, logIn, watchPage, type PageProblems } from "./chromium.ts";

// What a new user sees in a real browser: every page usable on a 390 px phone (nothing wider
// than the screen: tables scroll inside their card, the nav wraps, charts fit) with each table
// row's key figure on screen, the spend form's URL, the dimension marks, a streamed body wrapped, and a report email previewed in its frame.

const DAY = 86_400_000;
const PHONE = { width: 390, height: 844 };

let rig: ProxyRig;
let browser: Browser;
let base: string;
let streamedCall: number;
let scheduleId: number;
let deliveryId: number;

async function signedIn(viewport: { width: number; height: number }): Promise<{ context: BrowserContext; page: Page; problems: PageProblems }> {
  const context = await browser.newContext({ viewport, deviceScaleFactor: 1 });
  const page = await logIn(context, base, rig.server.adminToken);
  return { context, page, problems: watchPage(page) };
}

beforeAll(async () => {
  rig = await startProxyRig({ ...QUIET_CRON, REPORT_TZ: "Europe/London" });
  base = rig.server.url;
  const now = Date.now();
  const models = ["meta-llama/Llama-3.1-8B-Instruct", "meta-llama/Llama-3.3-70B-Instruct", "Qwen/Qwen2.5-Coder-32B-Instruct-with-a-long-name"];
  const teams = ["search", "support-bot", "a-team-with-a-rather-long-name"];
  await record(
    rig.server,
    ...Array.from({ length: 60 }, (_, i) => ({
      call: makeCall({
        createdAt: now - (i % 40) * DAY - i * 60_000,
        model: models[i % 3]!,
        team: teams[i % 3]!,
        project: `project-${i % 4}`,
        keyId: `0a1b2c3d4e5f${i % 5}...wxyz`,
        status: i % 11 === 0 ? 503 : 200,
        errorType: i % 11 === 0 ? "server_error" : null,
        errorMessage: i % 11 === 0 ? "upstream unavailable: a long message that goes on and on about what went wrong upstream" : null,
        costNano: 1_000_000 + i * 250_000,
      }),
    })),
  );
  // A streamed call that ended with an error event: its bodies are stored (LOG_BODIES=errors).
  const res = await postChat(rig, chatBody({ stream: true }), { "x-fake-scenario": "stream-error" });
  await res.text();
  streamedCall = (await rig.waitForCall(res.headers.get("x-tollbooth-request-id"))).id;

  const created = await rig.server.api("/api/reports", {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ name: "Finance monthly", kind: "spend", period: "monthly", send_at: "09:00", timezone: "Europe/London", recipients: ["finance@example.com", "cfo@example.com"] }),
  });
  scheduleId = ((await created.json()) as { id: number }).id;
  const sent = await rig.server.api(`/api/reports/${scheduleId}/send`, { method: "POST" });
  deliveryId = ((await sent.json()) as { id: number }).id;

  await rig.server.api("/api/budgets", {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ scope: "team", target: "a-team-with-a-rather-long-name", amount_usd: "25.00", period: "monthly", timezone: "Europe/London", soft_thresholds: [50, 80] }),
  });

  browser = await launchChromium();
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await rig?.stop();
});

/** Every page a signed-in user can open, with one of each detail page. */
const pages = () => [
  "/",
  "/usage",
  "/spend",
  "/spend?by=team&then=model",
  "/requests",
  "/requests/failed",
  `/requests/${streamedCall}`,
  "/prices",
  "/prices/reprice",
  "/keys",
  "/budgets",
  "/reports",
  `/reports/${scheduleId}/preview`,
  `/reports/${scheduleId}/edit`,
  `/reports/delivery/${deliveryId}`,
  "/jobs",
];

describe("390 px phone", () => {
  it("no page is wider than the screen, and the nav reaches every page", async () => {
    const { context, page, problems } = await signedIn(PHONE);
    try {
      const wide: string[] = [];
      for (const path of pages()) {
        problems.clear();
        await page.goto(base + path);
        await page.waitForLoadState("load");
        if (await page.$("canvas[data-chart]")) await page.waitForSelector("canvas[data-drawn]");
        const { scrollWidth, innerWidth, culprits } = await page.evaluate(() => {
          const width = window.innerWidth;
          // The outermost elements that reach past the right edge, to name in the failure.
          const culprits = [...document.querySelectorAll("body *")]
            .filter((el) => el.getBoundingClientRect().right > width + 1 && !(el.parentElement && el.parentElement.getBoundingClientRect().right > width + 1))
            .slice(0, 3)
            .map((el) => `${el.tagName.toLowerCase()}.${[...el.classList].join(".")}`);
          return { scrollWidth: document.documentElement.scrollWidth, innerWidth: width, culprits };
        });
        if (scrollWidth > innerWidth) wide.push(`${path}: ${scrollWidth} px (${culprits.join(", ")})`);
        expect(problems.all(), path).toEqual([]);
      }
      expect(wide).toEqual([]);

      // Every nav link is on screen (wrapped, not scrolled away).
      const offscreen = await page.$$eval(".topbar ul.links a", (links) =>
        links.filter((a) => a.getBoundingClientRect().right > window.innerWidth || a.getBoundingClientRect().width === 0).map((a) => a.textContent),
      );
      expect(offscreen).toEqual([]);
    } finally {
      await context.close();
    }
  }, 120_000);
});

/**
 * The key figure of each main table's first row, found by its column header (or, for the lists
 * and cards that are not tables, by a selector): [page, what, table selector, header text].
 */
const keyFigures: Array<[path: string, table: string, header: string]> = [
  ["/spend?by=team", "table.usage", "Cost"],
  ["/spend?by=team&then=model", "table.usage", "Cost"],
  ["/usage", "table.usage", "Cost"],
  ["/requests", "table.requests", "Cost"],
  ["/requests", "table.requests", "Status"],
  ["/requests/failed", "table.failures", "Calls"],
  ["/prices", "table.prices", "Input"],
  ["/prices", "table.prices", "Output"],
];
const keyCells: Array<[path: string, cell: string]> = [
  ["/", ".top-list li .row > span:last-child"],
  ["/budgets", ".budget-figures dd"],
];

describe("390 px phone: the key figure of a row", () => {
  it("is on screen without scrolling sideways, in every main table", async () => {
    const { context, page } = await signedIn(PHONE);
    try {
      const off: string[] = [];
      const check = async (path: string, what: string, right: number | null) => {
        const width = await page.evaluate(() => window.innerWidth);
        if (right === null || right > width) off.push(`${path} ${what}: right edge ${right} of ${width}`);
      };
      for (const [path, table, header] of keyFigures) {
        await page.goto(base + path);
        const right = await page.evaluate(
          ([table, header]) => {
            const t = document.querySelector(table!);
            if (!t) return null;
            const column = [...t.querySelectorAll("thead th")].findIndex((th) => th.textContent!.trim() === header);
            const cell = t.querySelector("tbody tr")?.children[column];
            const box = cell?.getBoundingClientRect();
            // A hidden cell has no box: not on screen either.
            return box && box.width > 0 ? box.right : null;
          },
          [table, header],
        );
        await check(path, `${table} ${header}`, right);
      }
      for (const [path, cell] of keyCells) {
        await page.goto(base + path);
        const right = await page.$eval(cell, (el) => el.getBoundingClientRect().right).catch(() => null);
        await check(path, cell, right);
      }
      expect(off).toEqual([]);
    } finally {
      await context.close();
    }
  }, 60_000);
});

describe("call detail of a streamed call", () => {
  it("wraps the reassembled text and the raw events (no line runs past its box)", async () => {
    const { context, page } = await signedIn(PHONE);
    try {
      await page.goto(`${base}/requests/${streamedCall}`);
      const overflowing = await page.$$eval("pre.body.wrap", (pres) => pres.filter((p) => p.scrollWidth > p.clientWidth + 1).length);
      expect(await page.$$eval("pre.body.wrap", (pres) => pres.length)).toBe(2);
      expect(overflowing).toBe(0);
    } finally {
      await context.close();
    }
  });
});

describe("spend form", () => {
  it("Custom dates starts from the period shown, and the URL holds each parameter once", async () => {
    const { context, page, problems } = await signedIn({ width: 1440, height: 900 });
    try {
      await page.goto(`${base}/spend`);
      const from = await page.inputValue('input[name="from"]');
      const to = await page.inputValue('input[name="to"]');
      expect(from).toMatch(/^\d{4}-\d{2}-01$/);
      await page.selectOption('select[name="period"]', "custom");
      await page.waitForURL((u) => u.searchParams.get("period") === "custom");
      await page.waitForLoadState("networkidle");
      expect(await page.$("#spend-report .notice.err")).toBeNull();
      const url = new URL(page.url());
      expect(url.searchParams.getAll("compare")).toEqual(["1"]);
      expect([url.searchParams.get("from"), url.searchParams.get("to")]).toEqual([from, to]);

      await page.uncheck('input[type="checkbox"][name="compare"]');
      await page.waitForURL((u) => u.searchParams.get("compare") === "0");
      expect(new URL(page.url()).searchParams.getAll("compare")).toEqual(["0"]);

      await page.selectOption('select[name="period"]', "last-month");
      await page.waitForURL((u) => u.searchParams.get("period") === "last-month");
      const last = new URL(page.url()).searchParams;
      expect(last.has("from") || last.has("to")).toBe(false);
      expect(problems.all()).toEqual([]);
    } finally {
      await context.close();
    }
  });
});

describe("dimension marks", () => {
  it("a team's mark and a model's mark have different shapes", async () => {
    const { context, page } = await signedIn({ width: 1440, height: 900 });
    try {
      await page.goto(`${base}/requests`);
      const shape = (selector: string) =>
        page.$eval(selector, (el) => {
          const s = getComputedStyle(el);
          return `${s.borderTopLeftRadius} ${s.transform} ${s.backgroundColor === "rgba(0, 0, 0, 0)" ? "ring" : "filled"}`;
        });
      const marks = await Promise.all(["model", "team"].map((k) => shape(`#request-rows .swatch.mark-${k}`)));
      expect(new Set(marks).size).toBe(2);
    } finally {
      await context.close();
    }
  });
});

describe("report preview", () => {
  it("shows the email in its frame, styled, with nothing blocked or run", async () => {
    const { context, page, problems } = await signedIn({ width: 1440, height: 900 });
    try {
      await page.goto(`${base}/reports/${scheduleId}/preview`);
      const frame = page.frameLocator("iframe.email-frame");
      await expect.poll(() => frame.locator("body").textContent()).toContain("Finance monthly");
      // The email's inline styles apply in the frame: its h1 is 22 px (a blocked style-src would
      // leave the browser's default 32 px).
      expect(await frame.locator("h1").first().evaluate((el) => getComputedStyle(el).fontSize)).toBe("22px");
      expect(problems.all()).toEqual([]);
    } finally {
      await context.close();
    }
  });
});
