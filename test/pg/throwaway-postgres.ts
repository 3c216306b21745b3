import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { chownSync, existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pg from "pg";

// A PostgreSQL server of its own for a test run or a benchmark: initdb into a temp folder, start
// `postgres` on a free port (and a unix socket in that folder), hand out one database per caller,
// stop it and delete the folder at the end. Nothing is installed or configured on the machine.
//
// PostgreSQL refuses to run as root (initdb and postgres both exit), and CI runs as root, so as
// root the server runs as the `postgres` user when there is one (Debian's postgresql-15 creates
// it), else as `nobody`; the temp folder is handed to that user. Starting fails loudly (an Error
// with the server's own last words), never quietly: a suite that cannot reach its database must
// fail, not skip.

export const DEFAULT_BIN = "/usr/lib/postgresql/15/bin";
/** The superuser initdb creates; trust auth, so no password. */
export const SUPERUSER = "tollbooth";

export interface ThrowawayPostgres {
  /** postgres://tollbooth@127.0.0.1:<port>/postgres, the maintenance database. */
  adminUrl: string;
  /** The same server's URL for database `name`. */
  urlFor(name: string): string;
  /** Fast shutdown (SIGINT), then the folder is deleted. */
  stop(): Promise<void>;
  /**
   * Fast shutdown (SIGINT: open connections are cut, as when a database server restarts), the
   * folder kept: a test of PostgreSQL going away under a running server.
   */
  halt(): Promise<void>;
  /** Start it again after halt(), on the same folder and port; resolves once it answers. */
  resume(): Promise<void>;
}

export interface StartOptions {
  /** Folder holding initdb and postgres (PG_BIN, else Debian's postgresql-15 path). */
  bin?: string;
  /**
   * false (tests): fsync and synchronous commit off, as nothing here must survive a power cut.
   * true (benchmarks): the settings a production server runs with, so commit costs are real.
   */
  durable?: boolean;
  /** More `name=value` server settings (a benchmark's `shared_preload_libraries=pg_stat_statements`). */
  settings?: string[];
}

/** uid/gid to run PostgreSQL as: ourselves unless we are root. */
export function serverUser(): { uid: number; gid: number } | null {
  if (process.getuid?.() !== 0) return null;
  const passwd = readFileSync("/etc/passwd", "utf8").split("\n").map((line) => line.split(":"));
  const entry = passwd.find((f) => f[0] === "postgres") ?? passwd.find((f) => f[0] === "nobody");
  if (!entry) throw new Error("running as root and neither a postgres nor a nobody user exists to run PostgreSQL as");
  return { uid: Number(entry[2]), gid: Number(entry[3]) };
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

/** Resolves once the server answers a query; rejects when it exits or `timeoutMs` passes. */
export async function waitUntilReady(url: string, child: ChildProcess, log: () => string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new Error(`PostgreSQL exited during start-up (${child.exitCode ?? child.signalCode}):\n${log()}`);
    }
    const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 1_000 });
    try {
      await client.connect();
      await client.query("SELECT 1");
      return;
    } catch (err) {
      if (Date.now() > deadline) throw new Error(`PostgreSQL did not accept connections within ${timeoutMs} ms (${String(err)}):\n${log()}`);
    } finally {
      await client.end().catch(() => {});
    }
    await new Promise((r) => setTimeout(r, 50));
  }
}

export async function startThrowawayPostgres(opts: StartOptions = {}): Promise<ThrowawayPostgres> {
  const bin = opts.bin ?? process.env.PG_BIN ?? DEFAULT_BIN;
  if (!existsSync(join(bin, "postgres")) || !existsSync(join(bin, "initdb"))) {
    throw new Error(`PostgreSQL server binaries not found in ${bin} (install postgresql-15, or set PG_BIN to the folder holding initdb and postgres)`);
  }
  const user = serverUser();
  const dir = mkdtempSync(join(tmpdir(), "tollbooth-pg-"));
  if (user) chownSync(dir, user.uid, user.gid);
  const data = join(dir, "data");
  const as = user ?? {};
  try {
    const init = spawnSync(join(bin, "initdb"), ["-D", data, "-U", SUPERUSER, "--auth=trust", "-E", "UTF8", "--no-locale", "--no-sync"], { ...as, encoding: "utf8" });
    if (init.status !== 0) throw new Error(`initdb failed (${init.status ?? init.signal ?? init.error}):\n${init.stderr}${init.stdout}`);

    const port = await freePort();
    const settings = [
      "listen_addresses=127.0.0.1",
      `unix_socket_directories=${dir}`,
      "max_connections=200",
      ...(opts.durable ? [] : ["fsync=off", "synchronous_commit=off", "full_page_writes=off"]),
      ...(opts.settings ?? []),
    ];
    const urlFor = (name: string) => `postgres://${SUPERUSER}@127.0.0.1:${port}/${name}`;
    let output = "";
    const keep = (chunk: Buffer) => {
      output = (output + chunk.toString()).slice(-8_000);
    };
    /** Start `postgres` on the folder and resolve once it answers; kill it if it does not. */
    const launch = async (): Promise<{ child: ChildProcess; exited: Promise<void> }> => {
      const child = spawn(join(bin, "postgres"), ["-D", data, "-p", String(port), ...settings.flatMap((s) => ["-c", s])], {
        ...as,
        stdio: ["ignore", "pipe", "pipe"],
      });
      child.stdout!.on("data", keep);
      child.stderr!.on("data", keep);
      const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
      try {
        await waitUntilReady(urlFor("postgres"), child, () => output, 20_000);
      } catch (err) {
        child.kill("SIGKILL");
        await exited;
        throw err;
      }
      return { child, exited };
    };
    let running: { child: ChildProcess; exited: Promise<void> } | null = null;
    // If this process ends without stop() (a crash, process.exit), take the server and its folder
    // with it instead of leaving a postgres running on a deleted-looking temp folder.
    const orphanGuard = () => {
      running?.child.kill("SIGKILL");
      rmSync(dir, { recursive: true, force: true });
    };
    process.once("exit", orphanGuard);
    try {
      running = await launch();
    } catch (err) {
      process.off("exit", orphanGuard);
      throw err;
    }
    const halt = async () => {
      const current = running;
      running = null;
      if (current && current.child.exitCode === null && current.child.signalCode === null) {
        current.child.kill("SIGINT");
        await current.exited;
      }
    };
    return {
      adminUrl: urlFor("postgres"),
      urlFor,
      async stop() {
        process.off("exit", orphanGuard);
        await halt();
        rmSync(dir, { recursive: true, force: true });
      },
      halt,
      async resume() {
        if (running) throw new Error("resume(): PostgreSQL is running");
        running = await launch();
      },
    };
  } catch (err) {
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }
}

/**
 * A fresh empty database on the server behind `adminUrl`; returns its URL and how to drop it.
 * `options` are appended to CREATE DATABASE (fixed text from a test, e.g. another collation).
 */
export async function createTestDatabase(adminUrl: string, prefix = "t", options = ""): Promise<{ url: string; drop(): Promise<void> }> {
  const name = `${prefix}_${process.pid}_${Math.random().toString(36).slice(2, 10)}`;
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE "${name}" ${options}`);
  } finally {
    await admin.end();
  }
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    async drop() {
      const client = new pg.Client({ connectionString: adminUrl });
      await client.connect();
      try {
        await client.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
      } finally {
        await client.end();
      }
    },
  };
}
