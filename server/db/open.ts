import Database from "better-sqlite3";
import { drizzle } from "drizzle-orm/better-sqlite3";
import { migrate } from "drizzle-orm/better-sqlite3/migrator";
import { mkdirSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import type { Db } from "./database.ts";
import { sqliteDb } from "./sqlite.ts";

export type { Db };

const MIGRATIONS_DIR = resolve(dirname(fileURLToPath(import.meta.url)), "../../migrations");

/** DATABASE_URL accepts a plain path or a `file:` URL (as drizzle-kit and libsql write it). */
export function databasePath(url: string): string {
  if (url === ":memory:") return url;
  if (url.startsWith("file://")) return fileURLToPath(url);
  if (url.startsWith("file:")) return url.slice("file:".length);
  return url;
}

/**
 * Open the SQLite file, set the pragmas the recorder relies on and apply pending migrations.
 * WAL lets readers (pages, API) run while the recorder writes; synchronous=NORMAL is durable
 * against process crashes in WAL mode and several times faster than FULL for our batch writes.
 */
export function openDatabase(url: string, opts: { migrate?: boolean } = {}): Db {
  const path = databasePath(url);
  if (path !== ":memory:") mkdirSync(dirname(resolve(path)), { recursive: true });
  const client = new Database(path);
  client.pragma("journal_mode = WAL");
  client.pragma("synchronous = NORMAL");
  client.pragma("busy_timeout = 5000");
  client.pragma("foreign_keys = ON");
  // Only the writer thread migrates (once, before any reader opens the file).
  if (opts.migrate !== false) migrate(drizzle(client), { migrationsFolder: MIGRATIONS_DIR });
  return sqliteDb(client);
}
