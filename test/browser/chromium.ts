import { existsSync } from "node:fs";
import { chromium, type Browser, type BrowserContext, type Page } from "playwright-core";

// Debian's Chromium driven by playwright-core (no browser download: this workplace has no network
// beyond package registries). .ci/run installs the package; a missing binary fails loudly.

const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";

export async function launchChromium(): Promise<Browser> {
  if (!existsSync(CHROMIUM_PATH)) {
    throw new Error(`Chromium not found at ${CHROMIUM_PATH}: install it with \`apt-get install -y chromium\` (or set CHROMIUM_PATH)`);
  }
  return chromium.launch({
    executablePath: CHROMIUM_PATH,
    headless: true,
    args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
  });
}

/** Problems a page reported: console errors, failed requests, HTTP >= 400, uncaught exceptions, dialogs. */
export interface PageProblems {
  console: string[];
  failed: string[];
  badStatus: string[];
  exceptions: string[];
  dialogs: string[];
  /** Forget what was seen so far (e.g. after an expected 401 on a wrong login). */
  clear(): void;
  all(): string[];
}

export function watchPage(page: Page): PageProblems {
  const p: PageProblems = {
    console: [],
    failed: [],
    badStatus: [],
    exceptions: [],
    dialogs: [],
    clear() {
      for (const list of [p.console, p.failed, p.badStatus, p.exceptions, p.dialogs]) list.length = 0;
    },
    all: () => [...p.console, ...p.failed, ...p.badStatus, ...p.exceptions, ...p.dialogs],
  };
  page.on("console", (m) => {
    if (m.type() === "error" || m.type() === "warning") p.console.push(`console ${m.type()}: ${m.text()}`);
  });
  page.on("requestfailed", (r) => {
    // A navigation that replaces the page aborts its in-flight polls; that is not a failure.
    if (r.failure()?.errorText !== "net::ERR_ABORTED") p.failed.push(`request failed: ${r.url()} ${r.failure()?.errorText}`);
  });
  page.on("response", (r) => {
    if (r.status() >= 400) p.badStatus.push(`HTTP ${r.status()}: ${r.request().method()} ${r.url()}`);
  });
  page.on("pageerror", (e) => p.exceptions.push(`uncaught: ${e.message}`));
  page.on("dialog", (d) => {
    p.dialogs.push(`dialog ${d.type()}: ${d.message()}`);
    void d.dismiss();
  });
  return p;
}

export async function logIn(context: BrowserContext, baseUrl: string, token: string): Promise<Page> {
  const page = await context.newPage();
  await page.goto(`${baseUrl}/login`);
  await page.fill('input[name="token"]', token);
  await Promise.all([page.waitForURL((u) => !u.pathname.startsWith("/login")), page.click('button[type="submit"]')]);
  return page;
}

/** Non-blank canvas: some pixel differs from the first one (Chart.js drew bars, lines or axes). */
export async function canvasIsDrawn(page: Page, selector: string): Promise<boolean> {
  return page.$eval(selector, (el) => {
    const canvas = el as HTMLCanvasElement;
    const ctx = canvas.getContext("2d");
    if (!ctx || canvas.width === 0 || canvas.height === 0) return false;
    const data = ctx.getImageData(0, 0, canvas.width, canvas.height).data;
    let painted = 0;
    for (let i = 3; i < data.length; i += 4) if (data[i]! > 0) painted++;
    return painted > 500;
  });
}
