import { z } from "zod";

// What a key may be called, checked alike by POST /api/keys/:key_id/name and the Keys page.

export const keyNameSchema = z
  .string()
  .trim()
  .max(64, "must be at most 64 characters")
  // Printable text only: names appear in emails, CSV cells and page titles.
  .regex(/^[^\p{Cc}]*$/u, "must not contain control characters")
  .transform((s) => (s === "" ? null : s));

/** The :key_id of a fingerprint: what fingerprintKey writes, or any printable id an import used. */
export const keyIdSchema = z.string().min(1).max(256, "must be at most 256 characters").regex(/^[\x21-\x7e]+$/, "must be a key fingerprint such as fe303d1c9a2b..Lm4R");
