import { hash } from "node:crypto";
import type { KeyEntry } from "../budgets/spend-messages.ts";
import { KEY_PREFIX } from "./key-secret.ts";

// The serving thread's copy of the tollbooth keys: SHA-256 of each secret → what the key may do.
// A lookup is one hash and one Map get; the writer thread replaces the whole map when any key
// changes, on any instance (spend-writer.ts).

export type KeyCheck = { ok: true; key: KeyEntry } | { ok: false; reason: "unknown" | "revoked" | "expired" };

export class KeyRing {
  private byHash = new Map<string, KeyEntry>();

  replace(entries: readonly KeyEntry[]): void {
    this.byHash = new Map(entries.map((e) => [e.hash, e]));
  }

  static isKeySecret(credential: string): boolean {
    return credential.startsWith(KEY_PREFIX);
  }

  check(secret: string, now: number): KeyCheck {
    const key = this.byHash.get(hash("sha256", secret, "hex"));
    if (!key) return { ok: false, reason: "unknown" };
    if (key.revokedAt !== null && key.revokedAt <= now) return { ok: false, reason: "revoked" };
    if ((key.expiresAt !== null && key.expiresAt <= now) || (key.retiresAt !== null && key.retiresAt <= now)) return { ok: false, reason: "expired" };
    return { ok: true, key };
  }
}
