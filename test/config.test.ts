import { describe, expect, it } from "vitest";
import { readFileSync } from "node:fs";
import { configSchema, loadConfig } from "../server/config.ts";

describe("loadConfig", () => {
  it("takes an ADMIN_TOKEN a client can send as a Bearer credential", () => {
    expect(loadConfig({ ADMIN_TOKEN: "tb_AZaz09._~+/-token==" }).ADMIN_TOKEN).toBe("tb_AZaz09._~+/-token==");
  });

  it("refuses at start-up an ADMIN_TOKEN no Authorization header could carry", () => {
    expect(() => loadConfig({ ADMIN_TOKEN: "sixteen chars with spaces" })).toThrow(/^invalid config: ADMIN_TOKEN: may hold only/);
  });

  it("checks REPORT_TZ with the same zone rule as every query string", () => {
    expect(loadConfig({ REPORT_TZ: "Asia/Kathmandu" }).REPORT_TZ).toBe("Asia/Kathmandu");
    expect(() => loadConfig({ REPORT_TZ: "Europe/Londn" })).toThrow('invalid config: REPORT_TZ: unknown IANA time zone "Europe/Londn"');
  });
});

describe("README configuration table", () => {
  it("lists every setting the config schema reads, with its default", () => {
    const readme = readFileSync(new URL("../README.md", import.meta.url), "utf8");
    const documented = new Set([...readme.matchAll(/^\| `([A-Z][A-Z0-9_]+)` \|/gm)].map((m) => m[1]));
    expect(Object.keys(configSchema.shape).filter((key) => !documented.has(key))).toEqual([]);
  });
});
