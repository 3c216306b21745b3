import type { KeyNames } from "./key-names-store.ts";

// How a key is written for people: its short fingerprint (first 6 hex characters, "..", its last
// 4 characters, as consoles show keys), after its name when an admin gave it one:
// "search-prod (fe303d..Lm4R)".

/** fe303d1c9a2b..Lm4R → fe303d..Lm4R (anything else as is). */
export function shortKeyId(keyId: string): string {
  const m = /^([0-9a-f]{6})[0-9a-f]{6}(\.\..*)$/.exec(keyId);
  return m ? `${m[1]}${m[2]}` : keyId;
}

export function keyLabel(keyId: string, names: KeyNames): string {
  const name = names.get(keyId);
  return name === undefined ? shortKeyId(keyId) : `${name} (${shortKeyId(keyId)})`;
}

/** Usage rows grouped by key, each key written as its label (report emails). */
export function labelKeyRows<R extends { group: Record<string, string | null>; other?: true }>(rows: R[], names: KeyNames): R[] {
  return rows.map((r) => (r.other || !r.group.key ? r : { ...r, group: { ...r.group, key: keyLabel(r.group.key, names) } }));
}
