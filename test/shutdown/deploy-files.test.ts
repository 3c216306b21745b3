import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { configSchema } from "../../server/config.ts";
import { REPO_ROOT } from "./child-server.ts";

// The deployment files in docs/deploy cannot be run here (no container engine, no systemd as
// PID 1), so these checks keep them consistent with the code: the same entry point as
// `npm start`, a stop signal the server handles, and a stop timeout longer than the grace period.
const read = (path: string) => readFileSync(join(REPO_ROOT, path), "utf8");
const startScript = (JSON.parse(read("package.json")) as { scripts: { start: string } }).scripts.start;
const entry = startScript.replace(/^exec /, "").split(" ").slice(1); // without the leading "node"
const defaults = configSchema.parse({});

describe("docs/deploy/tollbooth.service", () => {
  const unit = read("docs/deploy/tollbooth.service");
  const directive = (name: string) => [...unit.matchAll(new RegExp(`^${name}=(.*)$`, "gm"))].map((m) => m[1]!);
  const env = Object.fromEntries(directive("Environment").map((kv) => kv.split("=", 2) as [string, string]));

  it("runs node directly on the npm start entry point and stops it with SIGTERM", () => {
    expect(directive("ExecStart")[0]!.split(" ").slice(1)).toEqual(entry);
    expect(directive("KillSignal")).toEqual(["SIGTERM"]);
    expect(directive("Restart")).toEqual(["on-failure"]);
    expect(directive("StateDirectory")).toEqual(["tollbooth"]);
    expect(env.DATABASE_URL).toMatch(/^\/var\/lib\/tollbooth\//);
  });

  it("waits at least twice the grace period (connections, then the final write) before SIGKILL", () => {
    const grace = Number(env.SHUTDOWN_GRACE_MS ?? defaults.SHUTDOWN_GRACE_MS);
    expect(Number(directive("TimeoutStopSec")[0]) * 1000).toBeGreaterThanOrEqual(2 * grace);
  });

  it.skipIf(spawnSync("systemd-analyze", ["--version"]).status !== 0)("passes systemd-analyze verify", () => {
    const run = spawnSync("systemd-analyze", ["verify", join(REPO_ROOT, "docs/deploy/tollbooth.service")], { encoding: "utf8" });
    expect(run.stderr.trim()).toBe("");
    expect(run.status).toBe(0);
  });
});

describe("docs/deploy/Dockerfile", () => {
  const dockerfile = read("docs/deploy/Dockerfile");
  const instruction = (name: string) => [...dockerfile.matchAll(new RegExp(`^${name} (.*)$`, "gm"))].map((m) => m[1]!);

  it("runs node as PID 1 in exec form (no shell to swallow SIGTERM) on the npm start entry point", () => {
    const cmd = JSON.parse(instruction("CMD")[0]!) as string[];
    expect(cmd).toEqual(["node", ...entry]);
    expect(instruction("STOPSIGNAL")).toEqual(["SIGTERM"]);
    expect(instruction("VOLUME")).toEqual(['["/data"]']);
  });

  it("fits the grace period inside docker's default 10 s stop timeout", () => {
    const grace = Number(/SHUTDOWN_GRACE_MS=(\d+)/.exec(dockerfile)?.[1] ?? defaults.SHUTDOWN_GRACE_MS);
    expect(grace).toBeLessThanOrEqual(7_000);
  });

  it("keeps local data and modules out of the build context", () => {
    const ignored = read("docs/deploy/Dockerfile.dockerignore").split("\n");
    for (const path of ["node_modules", "data", "*.db", ".env"]) expect(ignored).toContain(path);
  });
});
