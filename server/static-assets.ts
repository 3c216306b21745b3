import { createHash } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

// The dashboard's browser files, served by tollbooth itself so it works offline and under a
// strict CSP (never a CDN). Every URL carries a version (the package's for vendor files, a
// content hash for ours), so responses can be cached for a year as immutable: a new release
// changes the URL instead of waiting for caches to expire.

interface StaticAsset {
  url: string;
  contentType: string;
  body: Buffer;
}

const require = createRequire(import.meta.url);
const VIEWS_STATIC = resolve(dirname(fileURLToPath(import.meta.url)), "../views/static");

// Found through Node's own search path rather than require.resolve("pkg/package.json"), which
// packages with an "exports" map (chart.js) refuse.
function packageFile(pkg: string, file: string): { path: string; version: string } {
  const manifest = (require.resolve.paths(pkg) ?? []).map((dir) => join(dir, pkg, "package.json")).find((f) => existsSync(f));
  if (!manifest) throw new Error(`static assets: package ${pkg} is not installed (npm ci)`);
  const version = (JSON.parse(readFileSync(manifest, "utf8")) as { version: string }).version;
  return { path: join(dirname(manifest), file), version };
}

function vendor(pkg: string, file: string, name: string, ext: string, contentType: string): StaticAsset {
  const { path, version } = packageFile(pkg, file);
  // Source-map comments would make devtools request .map files we do not serve.
  const body = Buffer.from(readFileSync(path, "utf8").replace(/\n\/\/# sourceMappingURL=\S+\s*$/, "\n"));
  return { url: `/static/vendor/${name}-${version}${ext}`, contentType, body };
}

function own(file: string, contentType: string): StaticAsset {
  const body = readFileSync(join(VIEWS_STATIC, file));
  const hash = createHash("sha256").update(body).digest("hex").slice(0, 10);
  const dot = file.lastIndexOf(".");
  return { url: `/static/${file.slice(0, dot)}-${hash}${file.slice(dot)}`, contentType, body };
}

function load() {
  return {
    htmx: vendor("htmx.org", "dist/htmx.min.js", "htmx", ".min.js", "text/javascript; charset=utf-8"),
    // The UMD build defines window.Chart with every controller registered; the ESM build would
    // need a bundler or an import map (an inline script, which the CSP forbids).
    chart: vendor("chart.js", "dist/chart.umd.min.js", "chart", ".umd.min.js", "text/javascript; charset=utf-8"),
    // Pico: a small class-light stylesheet with dark mode built in via prefers-color-scheme, so
    // the pages look considered without a CSS build step; app.css adds the dashboard's own bits.
    pico: vendor("@picocss/pico", "css/pico.min.css", "pico", ".min.css", "text/css; charset=utf-8"),
    appCss: own("app.css", "text/css; charset=utf-8"),
    appJs: own("app.js", "text/javascript; charset=utf-8"),
    // Served (rather than a missing /favicon.ico) so no page load ever logs a 404.
    favicon: own("favicon.svg", "image/svg+xml"),
  };
}

export type AssetName = keyof ReturnType<typeof load>;

let loaded: ReturnType<typeof load> | null = null;

/** Read once per process (a few hundred KB); later calls reuse the buffers. */
export function staticAssets(): ReturnType<typeof load> {
  return (loaded ??= load());
}

export function assetUrl(name: AssetName): string {
  return staticAssets()[name].url;
}
