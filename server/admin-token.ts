import { randomBytes } from "node:crypto";
import { chmodSync, existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";

/**
 * ADMIN_TOKEN from config wins. Otherwise the token lives in `<dataDir>/admin-token` (mode 0600):
 * generated on first start and announced once, so a fresh `npm start` is secure by default.
 */
export function resolveAdminToken(configured: string | undefined, dataDir: string): { token: string; generated: boolean } {
  if (configured) return { token: configured, generated: false };
  const path = join(dataDir, "admin-token");
  if (existsSync(path)) return { token: readFileSync(path, "utf8").trim(), generated: false };
  const token = `tb_${randomBytes(24).toString("base64url")}`;
  writeFileSync(path, token + "\n", { mode: 0o600, flag: "wx" });
  chmodSync(path, 0o600); // umask can widen the mode given to writeFileSync
  return { token, generated: true };
}
