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

  it("only the SQLite modules reach better-sqlite3; everything else goes through the Db handle", () => {
    // Each of these holds SQL or statements only SQLite runs; a PostgreSQL twin goes next to it.
    const sqliteModules = [
      "jobs/cli.ts", // busy_timeout for a job started by hand, SQLite only
      "server/db/open.ts",
      "server/db/sqlite.ts",
      "server/demo/sqlite-seed.ts", // deletes a demo database file, reads its calls with better-sqlite3
      "server/recorder/insert-statements.ts",
      "server/recorder/recorder.ts",
      "server/requests/message-index.ts",
      "server/requests/sqlite/requests-sql.ts", // loose index scans (recursive CTEs), the FTS5 search page
      "server/usage/rollups/fresh-tail-cache.ts",
      "server/usage/rollups/sqlite/rollup-by-id.ts", // the call-id watermark and the temp schema
      "server/usage/usage-sql.ts",
    ];
    const driver = /from\s+["']better-sqlite3["']/;
    const toSqlite = new Set([...imports("server"), ...imports("jobs")].filter(([, to]) => to === "server/db/sqlite.ts").map(([from]) => from));
    const reaching = [...sources("server"), ...sources("jobs")].filter((file) => toSqlite.has(file) || driver.test(readFileSync(join(ROOT, file), "utf8")));
    expect(reaching.filter((file) => !sqliteModules.includes(file))).toEqual([]);
    expect(reaching.length).toBeGreaterThan(5); // the scan sees real imports
  });
});
