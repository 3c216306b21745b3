import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { chownSync, existsSync, mkdirSync } from "node:fs";
import { join, resolve } from "node:path";
import { DEFAULT_BIN, SUPERUSER, freePort, serverUser, waitUntilReady } from "../test/pg/throwaway-postgres.ts";

// A PostgreSQL cluster kept in a folder between runs, for a benchmark data set that takes many
// minutes to build (pg-data-copy.ts). The binaries, the user it runs as (root cannot run
// PostgreSQL) and the readiness check are the throwaway test server's (test/pg/throwaway-postgres.ts);
// unlike that server, the folder stays when the server stops, and the next run starts it again.

export interface PgCluster {
  /** postgres://tollbooth@127.0.0.1:<port>/<name> */
  urlFor(name: string): string;
  /** Fast shutdown (SIGINT); the folder stays. */
  stop(): Promise<void>;
}

/** Settings a production server runs with: fsync, synchronous commit and full-page writes on. */
export const DURABLE: readonly string[] = [];
/**
 * For loading a data set that is rebuilt from scratch if anything fails: no fsync, and rare
 * checkpoints. Call syncToDisk() after the server stopped, before starting it DURABLE.
 */
export const LOADING: readonly string[] = ["fsync=off", "synchronous_commit=off", "full_page_writes=off", "max_wal_size=8GB", "checkpoint_timeout=30min"];

const bin = () => process.env.PG_BIN ?? DEFAULT_BIN;

/** initdb into `dir`/data (the folder is created and handed to the server's user). */
export function initPgCluster(folder: string): void {
  const dir = resolve(folder);
  if (!existsSync(join(bin(), "postgres")) || !existsSync(join(bin(), "initdb"))) {
    throw new Error(`PostgreSQL server binaries not found in ${bin()} (install postgresql-15, or set PG_BIN to the folder holding initdb and postgres)`);
  }
  const user = serverUser();
  mkdirSync(dir, { recursive: true });
  if (user) chownSync(dir, user.uid, user.gid);
  const init = spawnSync(join(bin(), "initdb"), ["-D", join(dir, "data"), "-U", SUPERUSER, "--auth=trust", "-E", "UTF8", "--no-locale"], {
    ...(user ?? {}),
    encoding: "utf8",
  });
  if (init.status !== 0) throw new Error(`initdb failed (${init.status ?? init.signal ?? init.error}):\n${init.stderr}${init.stdout}`);
}

/** Start the cluster initPgCluster made in `dir`, on a free port, with `settings` (-c name=value). */
export async function startPgCluster(folder: string, settings: readonly string[]): Promise<PgCluster> {
  // Absolute: postgres changes into its data folder, and the socket folder is read from there.
  const dir = resolve(folder);
  const user = serverUser();
  const port = await freePort();
  const urlFor = (name: string) => `postgres://${SUPERUSER}@127.0.0.1:${port}/${name}`;
  const all = ["listen_addresses=127.0.0.1", `unix_socket_directories=${dir}`, "max_connections=200", ...settings];
  let output = "";
  const child: ChildProcess = spawn(join(bin(), "postgres"), ["-D", join(dir, "data"), "-p", String(port), ...all.flatMap((s) => ["-c", s])], {
    ...(user ?? {}),
    stdio: ["ignore", "pipe", "pipe"],
  });
  const keep = (chunk: Buffer) => {
    output = (output + chunk.toString()).slice(-8_000);
  };
  child.stdout!.on("data", keep);
  child.stderr!.on("data", keep);
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  // This process ending without stop() (a crash, process.exit) takes the server with it; the
  // next start recovers the folder from its WAL, as after a power cut.
  const orphanGuard = () => child.kill("SIGKILL");
  process.once("exit", orphanGuard);
  try {
    await waitUntilReady(urlFor("postgres"), child, () => output, 120_000);
  } catch (err) {
    process.off("exit", orphanGuard);
    child.kill("SIGKILL");
    await exited;
    throw err;
  }
  return {
    urlFor,
    async stop() {
      process.off("exit", orphanGuard);
      if (child.exitCode === null && child.signalCode === null) {
        child.kill("SIGINT");
        await exited;
      }
    },
  };
}

/** Write the page cache out (after a LOADING server stopped, so a DURABLE one starts on data that is on disk). */
export function syncToDisk(): void {
  spawnSync("sync");
}
