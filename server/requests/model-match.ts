import type { Db } from "../db/database.ts";
import { sql } from "drizzle-orm";
import { badInput } from "../validation.ts";
import { requestsSql } from "./dialect.ts";

// The model filter takes part of a name ("70b", "llama"): any recorded model containing it, in
// any case. The distinct models are read by a loose index scan of calls_model_created_idx (one
// seek per model, however many calls each has; each engine's SQL in dialect.ts), and the filter
// becomes the exact names found.

/** Most distinct models walked; a deployment has tens. */
const MAX_MODELS = 10_000;

/** Every model that has calls, in name order (code points; the filter's suggestions). */
export function knownModels(db: Db): Promise<string[]> {
  return requestsSql(db).distinctModels(db, MAX_MODELS);
}

/** The recorded models `text` names: itself when exact, else every model containing it (any case); a 400 when none does. */
export async function resolveModels(db: Db, text: string): Promise<string[]> {
  if ((await db.get(sql`SELECT 1 AS one FROM calls WHERE model = ${text} LIMIT 1`)) !== undefined) return [text];
  const needle = text.toLowerCase();
  const found = (await knownModels(db)).filter((m) => m.toLowerCase().includes(needle));
  if (found.length === 0) throw badInput("model", `no recorded model contains "${text.slice(0, 60)}"`);
  return found;
}
