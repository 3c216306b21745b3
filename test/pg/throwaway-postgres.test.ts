import { spawnSync } from "node:child_process";
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, inject, it } from "vitest";
import { queryPostgres as query, testDatabaseUrl } from "./database.ts";
import { startThrowawayPostgres } from "./throwaway-postgres.ts";

const REAL_BIN = process.env.PG_BIN ?? "/usr/lib/postgresql/15/bin";

/** The uid a process runs as, from /proc (Linux). */
function uidOf(pid: number): number {
  return Number(/^Uid:\s+(\d+)/m.exec(readFileSync(`/proc/${pid}/status`, "utf8"))![1]);
}

describe("throwaway PostgreSQL", () => {
  it("gives each test file its own database on the run's server, which never runs as root", async () => {
    const url = await testDatabaseUrl("harness");
    // The checkpointer's pid, not this connection's backend: the backend exits when query()
    // disconnects, and on a busy machine it was gone from /proc before its uid was read.
    const [row] = await query<{ db: string; pid: number; version: number }>(
      url,
      "SELECT current_database() AS db, (SELECT pid FROM pg_stat_activity WHERE backend_type = 'checkpointer') AS pid, current_setting('server_version_num')::int AS version",
    );
    expect(row!.db).toMatch(/^harness_/);
    expect(row!.version).toBeGreaterThanOrEqual(150000);
    // Every server process is forked by the postmaster and shares its uid; TOLLBOOTH_TEST_PG_URL may point at a remote server.
    if (!process.env.TOLLBOOTH_TEST_PG_URL) expect(uidOf(row!.pid)).not.toBe(0);
    expect(inject("pgAdminUrl")).toMatch(/^postgres:\/\//);
  });

  it("fails, not skips, when the server binaries are missing", async () => {
    await expect(startThrowawayPostgres({ bin: "/nonexistent/pg/bin" })).rejects.toThrow(/PostgreSQL server binaries not found in \/nonexistent\/pg\/bin/);
  });

  it("fails with the server's own output when postgres itself cannot start", async () => {
    const bin = mkdtempSync(join(tmpdir(), "tollbooth-fake-pg-bin-"));
    try {
      symlinkSync(join(REAL_BIN, "initdb"), join(bin, "initdb"));
      writeFileSync(join(bin, "postgres"), '#!/bin/sh\necho "FATAL:  pretend the disk is gone" >&2\nexit 1\n');
      chmodSync(bin, 0o755);
      chmodSync(join(bin, "postgres"), 0o755);
      await expect(startThrowawayPostgres({ bin })).rejects.toThrow(/exited during start-up[\s\S]*pretend the disk is gone/);
    } finally {
      rmSync(bin, { recursive: true, force: true });
    }
  });

  it("stops the server and deletes its folder", async () => {
    const server = await startThrowawayPostgres();
    const [row] = await query<{ dir: string }>(server.adminUrl, "SELECT current_setting('data_directory') AS dir");
    await server.stop();
    await expect(query(server.adminUrl, "SELECT 1")).rejects.toThrow(/ECONNREFUSED/);
    expect(() => readFileSync(join(row!.dir, "PG_VERSION"))).toThrow(/ENOENT/);
  });

  it("takes the server and its folder down when the process that started it crashes without stop()", { timeout: 60_000 }, async () => {
    const dir = mkdtempSync(join(tmpdir(), "tollbooth-pg-crash-"));
    let started: { url: string; dir: string } | undefined;
    try {
      const script = join(dir, "crash.mts"); // .mts: an ES module (top-level await) outside any package.json
      writeFileSync(
        script,
        // Absolute imports: the script sits in a temp folder, outside this project's node_modules.
        `import pg from ${JSON.stringify(createRequire(import.meta.url).resolve("pg"))};
         import { startThrowawayPostgres } from ${JSON.stringify(join(import.meta.dirname, "throwaway-postgres.ts"))};
         const server = await startThrowawayPostgres();
         const client = new pg.Client(server.adminUrl);
         await client.connect();
         const { rows } = await client.query("SELECT current_setting('data_directory') AS dir");
         await client.end();
         console.log(JSON.stringify({ url: server.adminUrl, dir: rows[0].dir }));
         throw new Error("crash");`,
      );
      const child = spawnSync(process.execPath, ["--import", "tsx", script], { cwd: process.cwd(), encoding: "utf8", timeout: 50_000 });
      expect(child.status, child.stderr).not.toBe(0);
      expect(child.stderr).toContain("Error: crash");
      started = JSON.parse(child.stdout.trim().split("\n").at(-1)!) as { url: string; dir: string };
      await expect(query(started.url, "SELECT 1")).rejects.toThrow(/ECONNREFUSED/);
      expect(existsSync(started.dir)).toBe(false);
    } finally {
      rmSync(dir, { recursive: true, force: true });
      // Should the guard fail, do not leave its server behind for the rest of the run.
      const serverDir = started?.dir;
      if (serverDir && existsSync(join(serverDir, "postmaster.pid"))) {
        process.kill(Number(readFileSync(join(serverDir, "postmaster.pid"), "utf8").split("\n")[0]), "SIGKILL");
        rmSync(join(serverDir, ".."), { recursive: true, force: true });
      }
    }
  });
});
