import { databasePath } from "./open.ts";

// DATABASE_URL picks the engine: a path or a `file:` URL is SQLite (the embedded default), a
// postgres:// or postgresql:// URL is PostgreSQL (several instances on one database). Any other
// scheme is refused rather than taken for a file name.

export type Engine = { kind: "sqlite"; path: string } | { kind: "postgres"; url: string };

const URL_SCHEME = /^([a-z][a-z0-9+.-]*):\/\//i;

export function engineFor(databaseUrl: string): Engine {
  const scheme = URL_SCHEME.exec(databaseUrl)?.[1]?.toLowerCase();
  if (scheme === "postgres" || scheme === "postgresql") return { kind: "postgres", url: databaseUrl };
  if (scheme !== undefined && scheme !== "file") {
    throw new Error(`DATABASE_URL: unsupported scheme "${scheme}://" (use a file path, file:, postgres:// or postgresql://)`);
  }
  return { kind: "sqlite", path: databasePath(databaseUrl) };
}

/** The URL with its password (and any password= parameter) replaced by ***, for logs and errors. */
export function maskDatabaseUrl(url: string): string {
  return url.replace(/^([a-z][a-z0-9+.-]*:\/\/[^:@/?#]*):[^@/?#]*@/i, "$1:***@").replace(/([?&]password=)[^&#]*/gi, "$1***");
}
