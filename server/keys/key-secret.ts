import { hash, randomBytes } from "node:crypto";

// A tollbooth key is "tb_" plus 43 base62 characters (256 random bits). Such a secret cannot be
// guessed, so a plain SHA-256 is all the storage needs (a slow hash protects low-entropy
// passwords, and would cost every proxied call its time).

const ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
export const KEY_PREFIX = "tb_";
/** 43 × log2(62) ≈ 256 bits. */
const SECRET_CHARS = 43;

/** `n` uniformly random base62 characters (bytes ≥ 248 are dropped, so no character is favoured). */
function randomBase62(n: number): string {
  let out = "";
  while (out.length < n) {
    for (const byte of randomBytes(n * 2)) {
      if (byte < 248 && out.length < n) out += ALPHABET[byte % 62];
    }
  }
  return out;
}

export function newKeySecret(): string {
  return KEY_PREFIX + randomBase62(SECRET_CHARS);
}

export function newKeyId(): string {
  return `key_${randomBase62(16)}`;
}

/** The stored form of a secret: SHA-256, hex. */
export function hashKeySecret(secret: string): string {
  return hash("sha256", secret, "hex");
}

/** What lists show of a secret: "tb_" and its first 8 characters. */
export function keyPrefix(secret: string): string {
  return secret.slice(0, KEY_PREFIX.length + 8);
}
