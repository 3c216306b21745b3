import { randomBytes } from "node:crypto";

/** Every `size`-character substring of `secret`: none may remain anywhere stored. */
function windowsOf(secret: string, size = 8): string[] {
  if (secret.length < size) throw new Error(`secret ${JSON.stringify(secret)} is shorter than the ${size}-character window`);
  return Array.from({ length: secret.length - size + 1 }, (_, i) => secret.slice(i, i + size));
}

/** The windows of `secrets` found in `haystack`, as "window (of secret)", for a readable failure. */
export function leakedWindows(haystack: string, secrets: readonly string[]): string[] {
  const found: string[] = [];
  for (const secret of secrets) for (const w of windowsOf(secret)) if (haystack.includes(w)) found.push(`${w} (of ${secret})`);
  return found;
}

/** Random lowercase hex: a key with no known prefix, unique to the run so a window cannot match by chance. */
export function hexSecret(chars = 32): string {
  return randomBytes(Math.ceil(chars / 2)).toString("hex").slice(0, chars);
}
