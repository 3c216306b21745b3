import type { Db } from "../db/open.ts";
import { badInput } from "../validation.ts";
import { sqliteClient } from "../db/sqlite.ts";

// The key filter takes what people have in hand: the full fingerprint (`fe303d1c9a2b..Lm4R`), the
// shortened form the tables show (`fe303d..Lm4R`), or any prefix or suffix of a fingerprint. It
// resolves to exactly one recorded key_id, or to a 400 that says why: a text that matches no key
// or several is refused, never answered with an empty page.

/** Most keys walked for a suffix (no index serves a suffix): beyond it a suffix may be missed. */
const MAX_KEYS_WALKED = 100_000;
/** Keys named in an "ambiguous" message. */
const SHOWN = 5;
// Above every character a key_id holds (ASCII): the end of a prefix's range in the index.
const AFTER = "\u{ffff}";

// The distinct key_ids in [lo, hi), one index seek each on calls_key_created_idx (a loose index
// scan: a key with a million calls costs one step, not a million), that match the test.
const WALK_SQL = `
  WITH RECURSIVE k(id, n) AS (
    SELECT (SELECT key_id FROM calls WHERE key_id >= :lo ORDER BY key_id LIMIT 1), 1
    UNION ALL
    SELECT (SELECT key_id FROM calls WHERE key_id > k.id ORDER BY key_id LIMIT 1), n + 1 FROM k
    WHERE k.id IS NOT NULL AND k.id < :hi AND n < ${MAX_KEYS_WALKED}
  )
  SELECT id FROM k WHERE id IS NOT NULL AND id < :hi AND (
    (NOT :either AND substr(id, 1, length(:prefix)) = :prefix AND (:suffix = '' OR substr(id, -length(:suffix)) = :suffix))
    OR (:either AND (substr(id, 1, length(:text)) = :text OR substr(id, -length(:text)) = :text))
  )
  LIMIT ${SHOWN + 1}`;

/** The one key_id that `text` names, or a 400 naming the key parameter. */
export async function resolveKey(db: Db, text: string): Promise<string> {
  const client = sqliteClient(db); // loose index scans: SQLite-only SQL
  const exact = client.prepare("SELECT key_id FROM calls WHERE key_id = ? LIMIT 1").pluck().get(text) as string | undefined;
  if (exact !== undefined) return exact;

  const cut = text.indexOf("..");
  // "fe303d..Lm4R": starts with the part before "..", ends with the part after it (if any). A text without
  // "..": starts or ends with it (a prefix walks only its own range of the index; a suffix walks
  // every key).
  const params =
    cut >= 0
      ? { lo: text.slice(0, cut), hi: text.slice(0, cut) + AFTER, prefix: text.slice(0, cut), suffix: text.slice(cut + 2), either: 0, text }
      : { lo: "", hi: AFTER, prefix: text, suffix: "", either: 1, text };
  const found = client.prepare(WALK_SQL).pluck().all(params) as string[];
  if (found.length === 1) return found[0]!;
  if (found.length === 0) {
    throw badInput("key", `no recorded key matches "${text.slice(0, 60)}" (give a fingerprint such as fe303d..Lm4R, or a prefix or suffix of one)`);
  }
  const listed = found.slice(0, SHOWN).join(", ");
  throw badInput("key", `"${text.slice(0, 60)}" matches ${found.length > SHOWN ? `more than ${SHOWN}` : found.length} keys (${listed}${found.length > SHOWN ? ", …" : ""}); give more characters`);
}
