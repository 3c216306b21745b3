import { readFileSync, readdirSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

// Dependencies run one way: jobs/ → server/ ← views/, and within server/ only page handlers
// (*-page.tsx and the pages/ shell, which render views) import views/. This reads every import
// of every source file, so a shortcut the other way fails here rather than in review.

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const IMPORT = /(?:from|import)\s*\(?\s*["'](\.{1,2}\/[^"']+)["']/g;

function sources(dir: string): string[] {
  return readdirSync(join(ROOT, dir), { recursive: true, encoding: "utf8" })
    .filter((f) => /\.(ts|tsx|mjs)$/.test(f))
    .map((f) => join(dir, f));
}

/** [importing file, imported file], both relative to the repo root. */
function imports(dir: string): Array<[string, string]> {
  return sources(dir).flatMap((file) =>
    [...readFileSync(join(ROOT, file), "utf8").matchAll(IMPORT)].map((m): [string, string] => [file, relative(ROOT, resolve(ROOT, dirname(file), m[1]!))]),
  );
}

const isPageHandler = (file: string) => /-page\.tsx$/.test(file) || file.startsWith("server/pages/");

describe("layers", () => {
  it("server code never imports job code", () => {
    expect(imports("server").filter(([, to]) => to.startsWith("jobs/"))).toEqual([]);
  });

  it("only page handlers import views; the rest of server/ knows nothing of HTML", () => {
    expect(imports("server").filter(([from, to]) => to.startsWith("views/") && !isPageHandler(from))).toEqual([]);
  });

  it("views import server code but never jobs", () => {
    const fromViews = imports("views");
    expect(fromViews.some(([, to]) => to.startsWith("server/"))).toBe(true); // the scan sees real imports
    expect(fromViews.filter(([, to]) => to.startsWith("jobs/"))).toEqual([]);
  });
});
