import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { loadConfig } from "../../server/config.ts";
import { startDemo } from "../../server/demo/demo.ts";
import { startServer } from "../../server/start.ts";
import type { Page } from "playwright-core";
import { launchChromium, logIn } from "./chromium.ts";
import { seedAlerts } from "./seed-alerts.ts";

// Screenshots of every dashboard page, for docs and for eyeballing changes (npm run screenshots).
// Starts the demo (simulated Nscale, seeded history) on a temp database; never touches ./data.
// Usage: tsx test/browser/screenshots.ts [outDir]

const OUT = process.argv[2] ?? "docs/screenshots";
// SHOTS_WIDTH=390 (or 1440): every page at that width only, for looking at a layout change.
const ONLY_WIDTH = process.env.SHOTS_WIDTH ? Number(process.env.SHOTS_WIDTH) : null;
const TOKEN = "screenshots-admin-token-0123456789";

const PAGES: Array<[name: string, path: string]> = [
  ["overview", "/"],
  ["usage", "/usage"],
  ["spend", "/spend?by=team&then=model"],
  ["requests", "/requests"],
  ["failures", "/requests/failed?range=30d"],
  ["prices", "/prices"],
  ["reprice", "/prices/reprice"],
  ["keys", "/keys"],
  ["budgets", "/budgets"],
  ["alerts", "/alerts"],
  ["reports", "/reports"],
  ["jobs", "/jobs"],
];

// Full pages, but cut at MAX_HEIGHT px: long tables would make multi-megabyte PNGs of more rows.
const MAX_HEIGHT = 1200;

async function shoot(page: Page, path: string): Promise<void> {
  const height = await page.evaluate(() => document.documentElement.scrollHeight);
  const width = page.viewportSize()!.width;
  await page.screenshot({ path, fullPage: true, clip: { x: 0, y: 0, width, height: Math.min(height, MAX_HEIGHT) } });
}

async function main() {
  mkdirSync(OUT, { recursive: true });
  const dir = mkdtempSync(join(tmpdir(), "tollbooth-shots-"));
  const demo = await startDemo({
    env: { PORT: "0", DATABASE_URL: join(dir, "demo.db"), ADMIN_TOKEN: TOKEN, LOG_LEVEL: "error" },
    volume: Number(process.env.SHOTS_VOLUME ?? "0.3"),
    liveRate: 0,
    latencyScale: 0,
  });
  await seedAlerts(demo);
  const browser = await launchChromium();
  try {
    const context = await browser.newContext({ viewport: { width: ONLY_WIDTH ?? 1280, height: 900 }, colorScheme: "light" });
    const page = await logIn(context, demo.url, TOKEN);
    if (ONLY_WIDTH !== null) {
      for (const [name, path] of PAGES) {
        await page.goto(demo.url + path);
        await shoot(page, join(OUT, `${name}-${ONLY_WIDTH}.png`));
      }
      await page.goto(`${demo.url}/requests/failed?range=30d`);
      await page.goto(await page.$eval("table.failures a[href^='/requests/']:not([href*='?'])", (a) => (a as HTMLAnchorElement).href));
      await shoot(page, join(OUT, `request-detail-${ONLY_WIDTH}.png`));
      console.log(`screenshots in ${OUT}`);
      return;
    }
    const anon = await browser.newContext({ viewport: { width: 1280, height: 700 } });
    const loginPage = await anon.newPage();
    await loginPage.goto(`${demo.url}/login`);
    await loginPage.screenshot({ path: join(OUT, "login.png") });
    for (const [name, path] of PAGES) {
      await page.goto(demo.url + path);
      await shoot(page, join(OUT, `${name}.png`));
    }
    // The newest failure's detail page (bodies, curl).
    await page.goto(`${demo.url}/requests/failed?range=30d`);
    const example = await page.$eval("table.failures a[href^='/requests/']:not([href*='?'])", (a) => (a as HTMLAnchorElement).href);
    await page.goto(example);
    await shoot(page, join(OUT, "request-detail.png"));
    const mobile = await browser.newContext({ viewport: { width: 375, height: 812 }, deviceScaleFactor: 1 });
    const phone = await logIn(mobile, demo.url, TOKEN);
    await phone.goto(`${demo.url}/`);
    await shoot(phone, join(OUT, "overview-375.png"));
    await phone.goto(`${demo.url}/alerts`);
    await shoot(phone, join(OUT, "alerts-375.png"));
    await phone.goto(`${demo.url}/requests`);
    await phone.screenshot({ path: join(OUT, "requests-375.png") });
    // Dark mode (prefers-color-scheme) and the empty state of a fresh install.
    const dark = await browser.newContext({ viewport: { width: 1280, height: 900 }, colorScheme: "dark" });
    const night = await logIn(dark, demo.url, TOKEN);
    await night.goto(`${demo.url}/spend?by=model`);
    await shoot(night, join(OUT, "spend-dark.png"));
    const fresh = await startServer(loadConfig({ PORT: "0", DATABASE_URL: join(dir, "empty.db"), ADMIN_TOKEN: TOKEN, LOG_LEVEL: "error" }));
    try {
      const empty = await logIn(await browser.newContext({ viewport: { width: 1280, height: 900 } }), fresh.url, TOKEN);
      await shoot(empty, join(OUT, "overview-empty.png"));
    } finally {
      await fresh.close();
    }
    console.log(`screenshots in ${OUT}`);
  } finally {
    await browser.close();
    await demo.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

void main();
