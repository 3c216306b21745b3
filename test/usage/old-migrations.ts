import { cpSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";

/**
 * A copy of migrations/ under `dir` whose journal stops at migration `last`: the schema as it was
 * when that migration was the newest, to build a database "from before" a later migration.
 */
export function migrationsUpTo(dir: string, last: number): string {
  const folder = join(dir, `migrations-${String(last).padStart(4, "0")}`);
  cpSync(join(import.meta.dirname, "../../migrations"), folder, { recursive: true });
  const journalPath = join(folder, "meta/_journal.json");
  const journal = JSON.parse(readFileSync(journalPath, "utf8"));
  journal.entries = journal.entries.filter((e: { idx: number }) => e.idx <= last);
  writeFileSync(journalPath, JSON.stringify(journal));
  return folder;
}
