import type { Db } from "../db/database.ts";
import { sql } from "drizzle-orm";
import { badInput } from "../validation.ts";
import { requestsSql, type KeyPattern } from "./dialect.ts";

// The key filter takes what people have in hand: the full fingerprint (`fe303d1c9a2b..Lm4R`), the
// shortened form the tables show (`fe303d..Lm4R`), or any prefix or suffix of a fingerprint. It
// resolves to exactly one recorded key_id, or to a 400 that says why: a text that matches no key
// or several is refused, never answered with an empty page. The distinct keys are read by a
// loose index scan of calls_key_created_idx (each engine's SQL in dialect.ts).

/** Most keys walked for a suffix (no index serves a suffix): beyond it a suffix may be missed. */
const MAX_KEYS_WALKED = 100_000;
/** Keys named in an "ambiguous" message. */
const SHOWN = 5;

/** The one key_id that `text` names, or a 400 naming the key parameter. */
export async function resolveKey(db: Db, text: string): Promise<string> {
  if ((await db.get(sql`SELECT 1 AS one FROM calls WHERE key_id = ${text} LIMIT 1`)) !== undefined) return text;

  const cut = text.indexOf("..");
  // "fe303d..Lm4R": starts with the part before "..", ends with the part after it (if any). A text
  // without "..": starts or ends with it.
  const pattern: KeyPattern = cut >= 0 ? { prefix: text.slice(0, cut), suffix: text.slice(cut + 2) } : { either: text };
  const found = await requestsSql(db).matchingKeys(db, pattern, SHOWN + 1, MAX_KEYS_WALKED);
  if (found.length === 1) return found[0]!;
  if (found.length === 0) {
    throw badInput("key", `no recorded key matches "${text.slice(0, 60)}" (give a fingerprint such as fe303d..Lm4R, or a prefix or suffix of one)`);
  }
  const listed = found.slice(0, SHOWN).join(", ");
  throw badInput("key", `"${text.slice(0, 60)}" matches ${found.length > SHOWN ? `more than ${SHOWN}` : found.length} keys (${listed}${found.length > SHOWN ? ", …" : ""}); give more characters`);
}
