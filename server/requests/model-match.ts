import type { Db } from "../db/open.ts";
import { badInput } from "../validation.ts";
import { sqliteClient } from "../db/sqlite.ts";

// The model filter takes part of a name ("70b", "llama"): any recorded model containing it, in
// any case. The distinct models are read by a loose index scan of calls_model_created_idx (one
// seek per model, however many calls each has), and the filter becomes the exact names found.

/** Most distinct models walked; a deployment has tens. */
const MAX_MODELS = 10_000;

const DISTINCT_MODELS_SQL = `
  WITH RECURSIVE m(name, n) AS (
    SELECT (SELECT model FROM calls WHERE model IS NOT NULL ORDER BY model LIMIT 1), 1
    UNION ALL
    SELECT (SELECT model FROM calls WHERE model > m.name ORDER BY model LIMIT 1), n + 1 FROM m WHERE m.name IS NOT NULL AND n < ${MAX_MODELS}
  )
  SELECT name FROM m WHERE name IS NOT NULL`;

/** Every model that has calls, in name order (the filter's suggestions). */
export async function knownModels(db: Db): Promise<string[]> {
  return sqliteClient(db).prepare(DISTINCT_MODELS_SQL).pluck().all() as string[];
}

/** The recorded models `text` names: itself when exact, else every model containing it (any case); a 400 when none does. */
export async function resolveModels(db: Db, text: string): Promise<string[]> {
  const exact = sqliteClient(db).prepare("SELECT 1 FROM calls WHERE model = ? LIMIT 1").get(text);
  if (exact !== undefined) return [text];
  const needle = text.toLowerCase();
  const found = (await knownModels(db)).filter((m) => m.toLowerCase().includes(needle));
  if (found.length === 0) throw badInput("model", `no recorded model contains "${text.slice(0, 60)}"`);
  return found;
}
